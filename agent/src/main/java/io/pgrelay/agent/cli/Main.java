package io.pgrelay.agent.cli;

import io.pgrelay.agent.observe.AgentVersion;
import io.pgrelay.agent.config.PgRelayConfig;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Spec;

/**
 * The agent's command line: {@code run | init | teardown | check --config FILE}. Exit status: 0
 * done, 1 runtime failure, 2 bad usage or configuration.
 */
@Command(name = "pgrelay-agent", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Streams PostgreSQL logical replication (pgoutput) into Kafka, as a cluster of agents.")
public final class Main implements Callable<Integer> {

    static final int EXIT_OK = 0;
    static final int EXIT_FAILURE = 1;
    static final int EXIT_CONFIG = 2;
    static final Duration KAFKA_CHECK_TIMEOUT = Duration.ofSeconds(5);

    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    @Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        System.exit(execute(args, out, err));
    }

    /** Runs the command line in this process, writing to {@code out} and {@code err}; returns the exit status. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        return commandLine(RunCommand.AGENT, KAFKA_CHECK_TIMEOUT, out, err).execute(args);
    }

    static CommandLine commandLine(Function<PgRelayConfig, Integer> agent, Duration kafkaTimeout, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Main())
                .addSubcommand(new RunCommand(agent))
                .addSubcommand(new InitCommand())
                .addSubcommand(new TeardownCommand())
                .addSubcommand(new CheckCommand(kafkaTimeout))
                .addSubcommand(new TrainCommand());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            // one line for the user; the stack trace only for whoever turns on debug logging
            LOG.debug("{} failed", commandLine.getCommandName(), e);
            commandLine.getErr().println(commandLine.getCommandName() + ": " + e);
            commandLine.getErr().flush();
            return EXIT_FAILURE;
        });
        return cli;
    }

    /** Without a subcommand: the usage, and the status of bad usage. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return EXIT_CONFIG;
    }

    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"pgrelay " + AgentVersion.current()};
        }
    }
}
