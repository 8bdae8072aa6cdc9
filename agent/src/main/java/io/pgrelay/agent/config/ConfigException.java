package io.pgrelay.agent.config;

import java.util.List;
import java.util.stream.Collectors;

/** A configuration that cannot be used, with every problem found in it (never just the first). */
public final class ConfigException extends RuntimeException {

    private final String source;
    private final List<Problem> problems;

    public ConfigException(String source, List<Problem> problems) {
        super(problems.stream().map(Problem::toString).collect(Collectors.joining("\n", "", "\n")) + summary(source, problems.size()));
        this.source = source;
        this.problems = List.copyOf(problems);
    }

    /** Where the configuration came from, as the user named it (a file path). */
    public String source() {
        return source;
    }

    public List<Problem> problems() {
        return problems;
    }

    /** The closing line: {@code 3 problems in config.yaml}. */
    public String summary() {
        return summary(source, problems.size());
    }

    private static String summary(String source, int count) {
        return count + (count == 1 ? " problem in " : " problems in ") + source;
    }
}
