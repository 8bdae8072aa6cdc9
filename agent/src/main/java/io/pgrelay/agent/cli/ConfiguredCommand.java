package io.pgrelay.agent.cli;

import io.pgrelay.agent.config.ConfigException;
import io.pgrelay.agent.config.ConfigLoader;
import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.config.Problem;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * A subcommand that works from a configuration file. A configuration with problems is reported —
 * every problem, one a line, then a summary — and ends the command with status 2 before any
 * server is touched.
 */
abstract class ConfiguredCommand implements Callable<Integer> {

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "the YAML configuration file")
    Path configFile;

    @Spec
    CommandSpec spec;

    @Override
    public final Integer call() throws Exception {
        PrintWriter err = err();
        PgRelayConfig config;
        try {
            config = ConfigLoader.load(configFile);
        } catch (ConfigException e) {
            for (Problem p : e.problems()) {
                err.println(p);
            }
            err.println(e.summary());
            err.flush();
            return Main.EXIT_CONFIG;
        }
        int status = run(config);
        out().flush();
        err.flush();
        return status;
    }

    /** Does the command's work with a valid configuration; returns the exit status. */
    abstract int run(PgRelayConfig config) throws Exception;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }
}
