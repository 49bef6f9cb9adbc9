namespace Tunebook.Kernel.Server;

/// <summary>
/// Console.In under the kernel: Console.ReadLine sends an input_request on the stdin channel and waits
/// for the front end's input_reply (when the request allowed stdin).
/// </summary>
sealed class StdinReader(Func<string, bool, string> requestInput) : TextReader
{
    string _pending = "";
    int _position;

    public override string? ReadLine()
    {
        if (_position < _pending.Length)
        {
            var rest = _pending[_position..];
            _pending = ""; _position = 0;
            int nl = rest.IndexOf('\n');
            return nl < 0 ? rest : rest[..nl];
        }
        return requestInput("", false);
    }

    public override int Read()
    {
        if (_position >= _pending.Length) { _pending = requestInput("", false) + "\n"; _position = 0; }
        return _pending[_position++];
    }

    public override int Peek()
    {
        if (_position >= _pending.Length) { _pending = requestInput("", false) + "\n"; _position = 0; }
        return _pending[_position];
    }
}
