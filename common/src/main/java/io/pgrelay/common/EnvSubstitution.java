package io.pgrelay.common;

import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Replaces {@code ${NAME}} and {@code ${NAME:-default}} in the raw configuration text, before YAML
 * parsing; {@code $${...}} stands for a literal {@code ${...}}. As in a shell, the default applies
 * when the variable is unset or empty.
 *
 * <p>The key path of a variable is not known yet when the raw text is rewritten, so an unset
 * variable without default is replaced by a marker ({@link #unsetMarker}); the reader of the
 * parsed tree reports it with its key path ({@link #unsetVariableIn}) — or ignores it, for a key it
 * does not use (the dashboard reads the agent's file and needs few of its keys).
 *
 * <p>The agent's config and the dashboard's both go through this one class, so a file means the
 * same to both.
 */
public final class EnvSubstitution {

    private static final Pattern REFERENCE =
            Pattern.compile("\\$\\$\\{|\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
    // Letters, digits and '-' only, so that the marker is a plain YAML scalar in any context; an
    // environment variable name never holds a '-', so the name is recovered without ambiguity.
    private static final Pattern MARKER = Pattern.compile("pgrelay-unset-env-([A-Za-z_][A-Za-z0-9_]*)-x");

    private EnvSubstitution() {
    }

    public static String substitute(String raw, Function<String, String> env) {
        Matcher m = REFERENCE.matcher(raw);
        StringBuilder out = new StringBuilder(raw.length());
        while (m.find()) {
            String replacement;
            if (m.group().equals("$${")) {
                replacement = "${";
            } else {
                String value = env.apply(m.group(1));
                String fallback = m.group(2);
                if (value != null && !(value.isEmpty() && fallback != null)) {
                    replacement = value;
                } else if (fallback != null) {
                    replacement = fallback;
                } else {
                    replacement = unsetMarker(m.group(1));
                }
            }
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    public static String unsetMarker(String name) {
        return "pgrelay-unset-env-" + name + "-x";
    }

    /** The name of an unset variable this value was built from, or null. */
    public static String unsetVariableIn(String value) {
        Matcher m = MARKER.matcher(value);
        return m.find() ? m.group(1) : null;
    }
}
