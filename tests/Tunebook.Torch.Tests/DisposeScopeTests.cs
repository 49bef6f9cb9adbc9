using Tunebook.Torch.nn;

namespace Tunebook.Torch.Tests;

public class DisposeScopeTests
{
    [Fact]
    public void ScopeFreesTemporariesAndKeepsMovedResults()
    {
        Tensor kept, temp;
        using (var outer = torch.NewDisposeScope())
        {
            using (var inner = torch.NewDisposeScope())
            {
                var a = torch.ones(3);
                temp = a * 2;
                kept = (temp + 1).MoveToOuterScope();
                Assert.Equal(2, inner.Count); // a and temp; kept has moved out
            }
            Assert.True(temp.IsDisposed);
            Assert.False(kept.IsDisposed);
            Assert.Equal(new float[] { 3, 3, 3 }, kept.data<float>());
        }
        Assert.True(kept.IsDisposed);
    }

    [Fact]
    public void DetachedTensorsSurviveAndParametersNeverJoinAScope()
    {
        Tensor detached;
        Linear layer;
        using (var scope = torch.NewDisposeScope())
        {
            detached = scope.Detach(torch.zeros(2));
            layer = new Linear(2, 2);
            _ = layer.forward(torch.ones(1, 2));
        }
        Assert.False(detached.IsDisposed);
        Assert.False(layer.weight.IsDisposed);
        Assert.False(layer.bias!.IsDisposed);
        detached.Dispose();
        layer.Dispose();
        Assert.True(layer.weight.IsDisposed);
    }

    [Fact]
    public void DisposingAnOuterScopeClosesInnerOnes()
    {
        var outer = torch.NewDisposeScope();
        var inner = torch.NewDisposeScope();
        var t = torch.ones(1);
        outer.Dispose();
        Assert.True(t.IsDisposed);
        Assert.Null(DisposeScope.Current);
        inner.Dispose(); // already closed: no effect
        Assert.Null(DisposeScope.Current);
    }

    [Fact]
    public void GradientsAndOpResultsAreOwnedByTheScope()
    {
        using var p = new Parameter(torch.ones(3).DetachFromDisposeScope());
        Tensor g;
        using (torch.NewDisposeScope())
        {
            (p * p).sum().backward();
            g = p.grad!;
        }
        Assert.True(g.IsDisposed);
        using var again = p.grad!;
        Assert.Equal(new float[] { 2, 2, 2 }, again.data<float>()); // the gradient itself lives on
    }

    [Fact]
    public void ScopesAndGradModeBelongToOneThread()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = torch.ones([2], requires_grad: true);
        Tensor? fromOtherThread = null;
        bool otherSawScope = true, otherGradEnabled = false;
        var thread = new Thread(() =>
        {
            otherSawScope = DisposeScope.Current is not null;
            otherGradEnabled = torch.is_grad_enabled();
            fromOtherThread = x * 2; // no scope on this thread: owned by whoever keeps it
        });
        thread.Start();
        thread.Join();
        Assert.False(otherSawScope);
        Assert.True(otherGradEnabled);
        Assert.True(fromOtherThread!.requires_grad); // recorded: grad mode is per thread
        Assert.False((x * 2).requires_grad);
        scope.Dispose();
        Assert.False(fromOtherThread.IsDisposed);
        fromOtherThread.Dispose();
    }
}
