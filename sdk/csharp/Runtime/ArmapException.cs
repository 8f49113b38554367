using System;

namespace Armap.Sdk
{
    /// <summary>A failed armap call: the C ABI's status code (equal to gRPC's) and its message.
    /// A localization that finds no pose is not an exception (LocalizeResult.Success is false).</summary>
    public sealed class ArmapException : Exception
    {
        public StatusCode Code { get; private set; }

        public ArmapException(StatusCode code, string message)
            : base(string.Format("{0}: {1}", code, message))
        {
            Code = code;
            NativeMessage = message;
        }

        /// <summary>The message as the native library gave it (without the code).</summary>
        public string NativeMessage { get; private set; }
    }
}
