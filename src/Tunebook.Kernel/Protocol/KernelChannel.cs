namespace Tunebook.Kernel.Protocol;

/// <summary>The channels of a Jupyter connection that carry messages (the heartbeat only echoes bytes).</summary>
public enum KernelChannel
{
    /// <summary>Requests the front end makes (execute, complete, inspect...), served one at a time.</summary>
    Shell,
    /// <summary>Interrupt and shutdown, served at once even while a cell runs.</summary>
    Control,
    /// <summary>input_request from the kernel, input_reply from the front end.</summary>
    Stdin,
    /// <summary>Everything the kernel broadcasts: status, outputs, results, errors.</summary>
    Iopub,
}
