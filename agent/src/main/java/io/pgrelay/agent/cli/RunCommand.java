package io.pgrelay.agent.cli;

import io.pgrelay.agent.observe.AgentVersion;
import io.pgrelay.agent.config.PgRelayConfig;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Join the cluster: stream as leader or stand by, until stopped.")
final class RunCommand extends ConfiguredCommand {

    private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

    /** What {@code run} starts; returns the exit status. */
    static final Function<PgRelayConfig, Integer> AGENT = io.pgrelay.agent.Agent::run;

    private final Function<PgRelayConfig, Integer> agent;

    RunCommand(Function<PgRelayConfig, Integer> agent) {
        this.agent = agent;
    }

    @Override
    int run(PgRelayConfig config) {
        LOG.info("pgrelay {} starting agent {} of cluster {}; effective configuration: {}", AgentVersion.current(), config.agent().id(),
                config.cluster(), config.describeMaskedOneLine());
        return agent.apply(config);
    }
}
