using System.Reflection;
using System.Runtime.CompilerServices;

[assembly: AssemblyTitle("Armap.Sdk")]
[assembly: AssemblyDescription("armap visual positioning and pose fusion over the C ABI")]
[assembly: InternalsVisibleTo("Armap.Sdk.Tests")]
