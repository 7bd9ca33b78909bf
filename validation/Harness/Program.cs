using Sim.Harness;

return HarnessApp.Run(args, Console.Out, Console.Error);
