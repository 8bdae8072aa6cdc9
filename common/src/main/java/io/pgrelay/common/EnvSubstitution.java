package io.pgrelay.common;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Replaces {@code ${NAME}} and {@code ${NAME:-default}} in the raw configuration text, before YAML
 * parsing; {@code $${...}} stands for a literal {@code ${...}}. As in a shell, the default applies
 * when the variable is unset or empty. {@code ${file:PATH}} is replaced by the file's content,
 * trimmed (a Kubernetes secret mounted as a file, a token ending in a newline).
 *
 * <p>The key path of a reference is not known yet when the raw text is rewritten, so an unset
 * variable without default, or a file that cannot be read, is replaced by a marker; the reader of
 * the parsed tree reports it with its key path ({@link #problemIn}) — or ignores it, for a key it
 * does not use (the dashboard reads the agent's file and needs few of its keys). A marker names a
 * file by its path, never by anything read from it.
 *
 * <p>The agent's config and the dashboard's both go through this one class, so a file means the
 * same to both.
 */
public final class EnvSubstitution {

    private static final Pattern REFERENCE =
            Pattern.compile("\\$\\$\\{|\\$\\{file:([^}]+)}|\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
    // Letters, digits and '-' only, so that a marker is a plain YAML scalar in any context; an
    // environment variable name never holds a '-', so the name is recovered without ambiguity. A
    // file's path is hex-encoded for the same reason.
    private static final Pattern MARKER = Pattern.compile("pgrelay-unset-env-([A-Za-z_][A-Za-z0-9_]*)-x");
    private static final Pattern FILE_MARKER = Pattern.compile("pgrelay-bad-file-(missing|unreadable|multiline|empty)-([0-9a-f]+)-x");

    private EnvSubstitution() {
    }

    public static String substitute(String raw, Function<String, String> env) {
        Matcher m = REFERENCE.matcher(raw);
        StringBuilder out = new StringBuilder(raw.length());
        while (m.find()) {
            String replacement;
            if (m.group().equals("$${")) {
                replacement = "${";
            } else if (m.group(1) != null) {
                replacement = fileContent(m.group(1).strip());
            } else {
                String value = env.apply(m.group(2));
                String fallback = m.group(3);
                if (value != null && !(value.isEmpty() && fallback != null)) {
                    replacement = value;
                } else if (fallback != null) {
                    replacement = fallback;
                } else {
                    replacement = unsetMarker(m.group(2));
                }
            }
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    /**
     * The trimmed content of one line; a marker when the file is missing, unreadable, empty or holds
     * several lines (the content goes into YAML text as it is, where a second line would be a new key).
     */
    private static String fileContent(String path) {
        String content;
        try {
            content = Files.readString(Path.of(path), StandardCharsets.UTF_8).strip();
        } catch (NoSuchFileException e) {
            return fileMarker("missing", path);
        } catch (IOException | RuntimeException e) {
            return fileMarker("unreadable", path);
        }
        if (content.isEmpty()) {
            return fileMarker("empty", path);
        }
        if (content.indexOf('\n') >= 0 || content.indexOf('\r') >= 0) {
            return fileMarker("multiline", path);
        }
        return content;
    }

    private static String fileMarker(String reason, String path) {
        return "pgrelay-bad-file-" + reason + "-" + HexFormat.of().formatHex(path.getBytes(StandardCharsets.UTF_8)) + "-x";
    }

    public static String unsetMarker(String name) {
        return "pgrelay-unset-env-" + name + "-x";
    }

    /** The name of an unset variable this value was built from, or null. */
    public static String unsetVariableIn(String value) {
        Matcher m = MARKER.matcher(value);
        return m.find() ? m.group(1) : null;
    }

    /**
     * What is wrong with a value built from a reference that could not be resolved — an unset
     * variable or a file that cannot be read — or null when nothing is.
     */
    public static String problemIn(String value) {
        String unset = unsetVariableIn(value);
        if (unset != null) {
            return "environment variable " + unset + " is not set (write ${" + unset + ":-default} to give a default)";
        }
        Matcher m = FILE_MARKER.matcher(value);
        if (!m.find()) {
            return null;
        }
        String path = new String(HexFormat.of().parseHex(m.group(2)), StandardCharsets.UTF_8);
        return switch (m.group(1)) {
            case "missing" -> "${file:" + path + "}: no such file";
            case "unreadable" -> "${file:" + path + "}: cannot be read (check its permissions)";
            case "empty" -> "${file:" + path + "}: the file is empty";
            default -> "${file:" + path + "}: the file holds more than one line; ${file:} takes a single value (a token, a password)";
        };
    }
}
