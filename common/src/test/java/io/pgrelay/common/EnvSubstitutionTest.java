package io.pgrelay.common;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

class EnvSubstitutionTest {

    private static String substitute(String raw, Map<String, String> env) {
        return EnvSubstitution.substitute(raw, env::get);
    }

    @Test
    void setVariablesAreReplacedAndDefaultsApplyWhenUnsetOrEmptyAsInAShell() {
        Map<String, String> env = Map.of("HOST", "db", "EMPTY", "");
        assertThat(substitute("url: ${HOST}:${PORT:-5432}", env)).isEqualTo("url: db:5432");
        assertThat(substitute("a: ${EMPTY:-fallback} b: [${EMPTY}]", env)).isEqualTo("a: fallback b: []");
        assertThat(substitute("token: ${T:-}", env)).isEqualTo("token: ");
    }

    @Test
    void doubledDollarIsALiteralReference() {
        assertThat(substitute("x: $${HOST} y: ${HOST}", Map.of("HOST", "db"))).isEqualTo("x: ${HOST} y: db");
    }

    @Test
    void anUnsetVariableWithoutDefaultLeavesAMarkerThatNamesIt() {
        String out = substitute("password: ${PGRELAY_PG_PASSWORD}", Map.of());
        assertThat(out).isEqualTo("password: " + EnvSubstitution.unsetMarker("PGRELAY_PG_PASSWORD"));
        assertThat(EnvSubstitution.unsetVariableIn(out.substring("password: ".length()))).isEqualTo("PGRELAY_PG_PASSWORD");
        assertThat(EnvSubstitution.unsetVariableIn("plain value")).isNull();
    }

    @Test
    void replacementsAreTakenLiterally() {
        assertThat(substitute("p: ${P}", Map.of("P", "a$1\\b"))).isEqualTo("p: a$1\\b");
    }

    @Test
    void aFileReferenceIsReplacedByTheFilesTrimmedContent(@TempDir Path dir) throws Exception {
        Path token = dir.resolve("token");
        Files.writeString(token, "  s3cr3t-token\n");
        assertThat(substitute("adminToken: '${file:" + token + "}'", Map.of())).isEqualTo("adminToken: 's3cr3t-token'");
        assertThat(substitute("t: $${file:" + token + "}", Map.of())).isEqualTo("t: ${file:" + token + "}");
    }

    @Test
    void aFileThatCannotBeUsedLeavesAMarkerNamingThePathNeverTheContent(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("absent");
        String out = substitute("${file:" + missing + "}", Map.of());
        assertThat(EnvSubstitution.problemIn(out)).isEqualTo("${file:" + missing + "}: no such file");

        Path twoLines = dir.resolve("two-lines");
        Files.writeString(twoLines, "first-secret\nsecond-secret\n");
        String multi = substitute("${file:" + twoLines + "}", Map.of());
        assertThat(EnvSubstitution.problemIn(multi)).contains(twoLines.toString(), "more than one line")
                .doesNotContain("first-secret");

        Path empty = dir.resolve("empty");
        Files.writeString(empty, " \n");
        assertThat(EnvSubstitution.problemIn(substitute("${file:" + empty + "}", Map.of()))).endsWith("the file is empty");
        assertThat(EnvSubstitution.problemIn("plain")).isNull();
        assertThat(EnvSubstitution.problemIn(EnvSubstitution.unsetMarker("X"))).startsWith("environment variable X is not set");
    }
}
