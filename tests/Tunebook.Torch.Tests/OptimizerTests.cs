using Tunebook.Torch.nn;
using Tunebook.Torch.optim;
using F = Tunebook.Torch.nn.functional;

namespace Tunebook.Torch.Tests;

public class OptimizerTests
{
    sealed class Mlp : Module<Tensor, Tensor>
    {
        readonly Linear _fc1, _fc2;
        public Mlp()
        {
            _fc1 = RegisterModule("fc1", new Linear(8, 16));
            _fc2 = RegisterModule("fc2", new Linear(16, 4));
        }
        public override Tensor forward(Tensor x) => _fc2.forward(_fc1.forward(x).silu());
    }

    static void Train(Mlp model, Optimizer opt, int steps, int seed)
    {
        torch.manual_seed(seed);
        for (int i = 0; i < steps; i++)
        {
            using var scope = torch.NewDisposeScope();
            var x = torch.randn(5, 8);
            var y = torch.randint(0, 4, [5]);
            opt.zero_grad();
            F.cross_entropy(model.forward(x), y).backward();
            utils.clip_grad_norm_(model.parameters(), 1.0);
            opt.step();
        }
    }

    [Theory]
    [InlineData("adamw")]
    [InlineData("sgd")]
    public void SavedStateResumesBitExactly(string kind)
    {
        Optimizer Make(Mlp m) => kind == "adamw"
            ? new AdamW(m.parameters(), lr: 1e-2, weight_decay: 0.1, amsgrad: true)
            : new SGD(m.parameters(), lr: 0.1, momentum: 0.9, weight_decay: 1e-3);

        torch.manual_seed(0);
        using var a = new Mlp();
        using var optA = Make(a);
        Train(a, optA, 4, seed: 10);

        // Snapshot model and optimizer, e.g. into a checkpoint.
        var modelState = a.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone().DetachFromDisposeScope());
        using var optState = optA.state_dict();

        Train(a, optA, 3, seed: 20);

        torch.manual_seed(99);
        using var b = new Mlp();
        b.load_state_dict(modelState);
        using var optB = Make(b);
        optB.load_state_dict(optState);
        Train(b, optB, 3, seed: 20);

        using var scope = torch.NewDisposeScope();
        var sa = a.state_dict();
        var sb = b.state_dict();
        foreach (var key in sa.Keys) Assert.True(sa[key].equal(sb[key]), $"{key} differs after resuming");
        foreach (var t in modelState.Values) t.Dispose();
    }

    [Fact]
    public void LearningRateIsSettablePerGroup()
    {
        using var scope = torch.NewDisposeScope();
        using var p1 = new Parameter(torch.ones(2));
        using var p2 = new Parameter(torch.ones(2));
        using var opt = new SGD([new ParamGroup([p1]), new ParamGroup([p2], lr: 0.5)], lr: 0.1);
        Assert.Equal(0.1, opt.param_groups[0].LearningRate);
        Assert.Equal(0.5, opt.param_groups[1].LearningRate);
        opt.param_groups[0].LearningRate = 1.0;
        p1.grad = torch.ones(2);
        p2.grad = torch.ones(2);
        opt.step();
        Assert.Equal(new float[] { 0, 0 }, p1.data<float>());
        Assert.Equal(new float[] { 0.5f, 0.5f }, p2.data<float>());
        Assert.Throws<ArgumentException>(() => new SGD([new ParamGroup([p1]), new ParamGroup([p1])], lr: 0.1));
    }

    [Fact]
    public void AdamWTrainingReducesLoss()
    {
        torch.manual_seed(5);
        using var model = new Mlp();
        using var opt = new AdamW(model.parameters(), lr: 1e-2);
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(32, 8);
        var y = x.narrow(1, 0, 4).argmax(1);
        double first = 0, last = 0;
        for (int i = 0; i < 100; i++)
        {
            using var step = torch.NewDisposeScope();
            opt.zero_grad();
            var loss = F.cross_entropy(model.forward(x), y);
            loss.backward();
            opt.step();
            if (i == 0) first = loss.item<double>();
            last = loss.item<double>();
        }
        Assert.True(last < first * 0.5, $"loss went from {first} to {last}");
    }
}
