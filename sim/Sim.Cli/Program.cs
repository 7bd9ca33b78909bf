using Sim.Cli;

return SimApp.Run(args, Console.Out, Console.Error);
