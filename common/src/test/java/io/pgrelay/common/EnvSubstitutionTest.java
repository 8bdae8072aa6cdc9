package io.pgrelay.common;

import org.junit.jupiter.api.Test;

import java.util.Map;

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
}
