package io.pgrelay.agent.event;

import org.junit.jupiter.api.Test;

import static io.pgrelay.agent.event.Json.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ValueMappingTest {

    @Test
    void integersAreNumbers() {
        assertThat(value(21, "-32768")).isEqualTo("-32768");
        assertThat(value(23, "42")).isEqualTo("42");
        assertThat(value(20, "9223372036854775807")).isEqualTo("9223372036854775807");
    }

    @Test
    void oidAndOtherIdentifiersAreTheirTextForm() {
        assertThat(value(26, "4294967295")).isEqualTo("\"4294967295\"");
        assertThat(value(28, "771")).isEqualTo("\"771\"");
        assertThat(value(3220, "16/3002D50")).isEqualTo("\"16/3002D50\"");
    }

    @Test
    void floatsAreNumbersExceptNanAndInfinities() {
        assertThat(value(701, "0.25")).isEqualTo("0.25");
        assertThat(value(701, "-1.5e-05")).isEqualTo("-1.5e-05");
        assertThat(value(700, "1e+30")).isEqualTo("1e+30");
        assertThat(value(701, "NaN")).isEqualTo("\"NaN\"");
        assertThat(value(701, "Infinity")).isEqualTo("\"Infinity\"");
        assertThat(value(700, "-Infinity")).isEqualTo("\"-Infinity\"");
    }

    @Test
    void negativeZeroIsWrittenAsPostgresRendersItAndKeepsItsSignInDebeziumsEnvelope() {
        // pgrelay's event: PostgreSQL's rendering, as DESIGN.md maps floats
        assertThat(value(701, "-0")).isEqualTo("-0");
        assertThat(value(1022, "{1.5,-0}")).isEqualTo("[1.5,-0]");
        // Debezium's envelope: JSON parsers (Jackson, so Kafka Connect's JsonConverter) read -0 as the integer 0
        assertThat(value(ValueCodecs.FLOAT_SIGNED_ZERO, "-0")).isEqualTo("-0.0");
        assertThat(value(ValueCodecs.FLOAT_SIGNED_ZERO, "-0.5")).isEqualTo("-0.5");
        assertThat(value(ValueCodecs.FLOAT_SIGNED_ZERO, "0")).isEqualTo("0");
        assertThat(value(ValueCodecs.FLOAT_SIGNED_ZERO, "NaN")).isEqualTo("\"NaN\"");
    }

    @Test
    void numericIsAnExactString() {
        assertThat(value(1700, "1234.500")).isEqualTo("\"1234.500\"");
        assertThat(value(1700, "12345678901234567890.123456789012345")).isEqualTo("\"12345678901234567890.123456789012345\"");
        assertThat(value(1700, "NaN")).isEqualTo("\"NaN\"");
        assertThat(value(1700, "-Infinity")).isEqualTo("\"-Infinity\"");
    }

    @Test
    void boolIsBoolean() {
        assertThat(value(16, "t")).isEqualTo("true");
        assertThat(value(16, "f")).isEqualTo("false");
        assertThatThrownBy(() -> value(16, "yes")).isInstanceOf(EventEncodingException.class)
                .hasMessage("bool value 'yes' is neither t nor f");
    }

    @Test
    void textLikeTypesAreStrings() {
        for (int oid : new int[] {25, 1043, 1042, 19, 18, 2950, 869, 650, 829, 774}) {
            assertThat(value(oid, "a0:b1/x")).as("oid %d", oid).isEqualTo("\"a0:b1/x\"");
        }
        assertThat(value(1042, "x  ")).isEqualTo("\"x  \"");
    }

    @Test
    void jsonAndJsonbAreEmbedded() {
        assertThat(value(3802, "{\"a\": [1, 2.5, null], \"b\": \"q\\\"uote\"}"))
                .isEqualTo("{\"a\": [1, 2.5, null], \"b\": \"q\\\"uote\"}");
        assertThat(value(114, "[1,\n 2]")).isEqualTo("[1,\n 2]");
        assertThat(value(3802, "\"just a string\"")).isEqualTo("\"just a string\"");
    }

    @Test
    void byteaHexBecomesBase64() {
        assertThat(value(17, "\\xdeadbeef")).isEqualTo("\"3q2+7w==\"");
        assertThat(value(17, "\\x")).isEqualTo("\"\"");
        assertThat(value(17, "\\x66")).isEqualTo("\"Zg==\"");
        assertThat(value(17, "\\x666f")).isEqualTo("\"Zm8=\"");
        assertThat(value(17, "\\x666F6F")).isEqualTo("\"Zm9v\"");
    }

    @Test
    void byteaEscapeFormatIsDecodedToo() {
        assertThat(value(17, "fo\\\\\\157")).isEqualTo("\"Zm9cbw==\"");   // f o \ o
    }

    @Test
    void badByteaHexFailsClearly() {
        assertThatThrownBy(() -> value(17, "\\xabc")).isInstanceOf(EventEncodingException.class)
                .hasMessage("bytea hex value has an odd number of digits (3)");
        assertThatThrownBy(() -> value(17, "\\xzz")).isInstanceOf(EventEncodingException.class)
                .hasMessage("bytea hex value has a non-hex byte 0x7a");
    }

    @Test
    void dateIsIsoAndInfinityStaysText() {
        assertThat(value(1082, "2026-11-22")).isEqualTo("\"2026-11-22\"");
        assertThat(value(1082, "infinity")).isEqualTo("\"infinity\"");
        assertThat(value(1082, "-infinity")).isEqualTo("\"-infinity\"");
        assertThat(value(1082, "0044-03-15 BC")).isEqualTo("\"-0043-03-15\"");
    }

    @Test
    void otherTypesAreTheirTextForm() {
        assertThat(value(1083, "10:15:30.5")).isEqualTo("\"10:15:30.5\"");
        assertThat(value(1266, "10:15:30+05:30")).isEqualTo("\"10:15:30+05:30\"");
        assertThat(value(1186, "1 year 2 mons 3 days 04:05:06")).isEqualTo("\"1 year 2 mons 3 days 04:05:06\"");
        assertThat(value(3904, "[1,10)")).isEqualTo("\"[1,10)\"");
        assertThat(value(790, "$1,234.50")).isEqualTo("\"$1,234.50\"");
        assertThat(value(600, "(1,2)")).isEqualTo("\"(1,2)\"");
        assertThat(value(3614, "'a' 'fat':2")).isEqualTo("\"'a' 'fat':2\"");
        assertThat(value(142, "<a href=\"x\"/>")).isEqualTo("\"<a href=\\\"x\\\"/>\"");
        assertThat(value(1560, "101")).isEqualTo("\"101\"");
        assertThat(value(22, "1 2 3")).isEqualTo("\"1 2 3\"");
    }

    @Test
    void unknownTypeIsItsTextForm() {
        assertThat(value(99999, "(1,\"x\")")).isEqualTo("\"(1,\\\"x\\\")\"");
    }

    @Test
    void domainMapsAsItsBaseTypeAndEnumAsString() {
        TypeCatalog catalog = oid -> switch (oid) {
            case 20000 -> TypeInfo.domain(20000, "positive", 23);
            case 20001 -> TypeInfo.domain(20001, "small_positive", 20000);
            case 20002 -> TypeInfo.of(20002, "mood", TypeInfo.Kind.ENUM);
            case 20003 -> TypeInfo.array(20003, "_positive", 20000);
            default -> BuiltinTypes.type(oid);
        };

        assertThat(value(ValueCodecs.forType(20000, catalog), "7")).isEqualTo("7");
        assertThat(value(ValueCodecs.forType(20001, catalog), "7")).isEqualTo("7");
        assertThat(value(ValueCodecs.forType(20002, catalog), "happy")).isEqualTo("\"happy\"");
        assertThat(value(ValueCodecs.forType(20003, catalog), "{1,NULL,3}")).isEqualTo("[1,null,3]");
    }

    @Test
    void binaryValuesAreBase64() {
        JsonBuffer out = new JsonBuffer(4);
        out.writeBase64(new byte[] {(byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef}, 1, 2);
        assertThat(out.toString()).isEqualTo("\"rb4=\"");
    }
}
