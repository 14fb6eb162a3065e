using System;
using ReproducibleBlock;

// Rules in a file without method bodies: the weaver finds them through the compiled-file list the build writes.
[assembly: ReproducibleConstructors(typeof(IDisposable))] // error: rule on an interface
[assembly: ReproducibleConstructors(typeof(object))] // error: rule on object
[assembly: ReproducibleConstructors(typeof(string))] // error: rule on a sealed class
[assembly: ReproducibleConstructors(typeof(WeavingErrors.Module))]
