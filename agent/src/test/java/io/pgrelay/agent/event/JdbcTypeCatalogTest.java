package io.pgrelay.agent.event;

import io.pgrelay.agent.event.TypeInfo.Kind;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static io.pgrelay.agent.event.Json.value;
import static org.assertj.core.api.Assertions.assertThat;

/** Against a real PostgreSQL: user-defined types, and the built-in table checked against pg_type. */
class JdbcTypeCatalogTest {

    private static EmbeddedPostgres pg;
    private final AtomicInteger connections = new AtomicInteger();
    private final JdbcTypeCatalog catalog = new JdbcTypeCatalog(() -> {
        connections.incrementAndGet();
        return pg.getPostgresDatabase().getConnection();
    });

    @BeforeAll
    static void start() throws Exception {
        pg = EmbeddedPostgres.builder().start();
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("""
                    CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
                    CREATE DOMAIN positive AS int4 CHECK (VALUE > 0);
                    CREATE TYPE pair AS (a int4, b text);
                    CREATE TABLE uses_them (m mood, p positive, ps positive[], pr pair, ms mood[]);
                    """);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        pg.close();
    }

    private int oidOf(String type) throws SQLException {
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT '" + type + "'::regtype::oid")) {
            rs.next();
            return (int) rs.getLong(1);
        }
    }

    @Test
    void enumIsAnEnumAndMapsToAString() throws Exception {
        int oid = oidOf("mood");

        assertThat(catalog.type(oid)).isEqualTo(TypeInfo.of(oid, "mood", Kind.ENUM));
        assertThat(value(ValueCodecs.forType(oid, catalog), "happy")).isEqualTo("\"happy\"");
        assertThat(value(ValueCodecs.forType(oidOf("mood[]"), catalog), "{sad,happy}")).isEqualTo("[\"sad\",\"happy\"]");
    }

    @Test
    void domainOverInt4MapsAsANumber() throws Exception {
        int oid = oidOf("positive");

        assertThat(catalog.type(oid)).isEqualTo(TypeInfo.domain(oid, "positive", 23));
        assertThat(value(ValueCodecs.forType(oid, catalog), "7")).isEqualTo("7");
    }

    @Test
    void arrayOfADomainMapsElementsAsTheBaseType() throws Exception {
        int oid = oidOf("positive[]");

        assertThat(catalog.type(oid)).isEqualTo(TypeInfo.array(oid, "_positive", oidOf("positive")));
        assertThat(value(ValueCodecs.forType(oid, catalog), "{1,NULL,3}")).isEqualTo("[1,null,3]");
    }

    @Test
    void compositeIsItsTextForm() throws Exception {
        int oid = oidOf("pair");

        assertThat(catalog.type(oid).kind()).isEqualTo(Kind.COMPOSITE);
        assertThat(value(ValueCodecs.forType(oid, catalog), "(1,\"x y\")")).isEqualTo("\"(1,\\\"x y\\\")\"");
    }

    @Test
    void answersAreCachedAndBuiltinsNeedNoConnection() throws Exception {
        int oid = oidOf("mood");
        catalog.type(oid);
        catalog.type(oid);
        catalog.type(23);
        catalog.type(1007);

        assertThat(connections.get()).isEqualTo(1);
    }

    @Test
    void unknownOidIsUnknownAndNotCached() {
        assertThat(catalog.type(999_999).kind()).isEqualTo(Kind.UNKNOWN);
        assertThat(catalog.type(999_999).kind()).isEqualTo(Kind.UNKNOWN);
        assertThat(connections.get()).isEqualTo(2);
    }

    @Test
    void informationSchemaDomainsAreLookedUp() throws Exception {
        int oid = oidOf("information_schema.cardinal_number");

        assertThat(catalog.type(oid).kind()).isEqualTo(Kind.DOMAIN);
        assertThat(value(ValueCodecs.forType(oid, catalog), "3")).isEqualTo("3");
    }

    @Test
    void builtinTableAgreesWithTheServersPgType() throws Exception {
        List<String> problems = new ArrayList<>();
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT oid, typname, typtype, typcategory, typelem, typdelim FROM pg_type"
                     + " WHERE oid < 10000 AND typtype IN ('b', 'r', 'm') ORDER BY oid")) {
            while (rs.next()) {
                int oid = (int) rs.getLong(1);
                String name = rs.getString(2);
                char typtype = rs.getString(3).charAt(0);
                boolean array = rs.getString(4).equals("A") && rs.getLong(5) != 0 && name.startsWith("_");
                Kind expected = array ? Kind.ARRAY : typtype == 'r' ? Kind.RANGE : typtype == 'm' ? Kind.MULTIRANGE : Kind.BASE;
                TypeInfo ours = BuiltinTypes.type(oid);
                if (ours.kind() != expected || !ours.name().equals(name)
                        || (array && ours.elementOid() != (int) rs.getLong(5))
                        || ours.delimiter() != rs.getString(6).charAt(0)) {
                    problems.add(oid + " " + name + " " + expected + " delim " + rs.getString(6) + " but table says " + ours);
                }
            }
        }
        assertThat(problems).isEmpty();
    }
}
