package io.pgrelay.agent.event;

import org.junit.jupiter.api.Test;

import static io.pgrelay.agent.event.Json.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ArrayMappingTest {

    private static final int INT4_ARRAY = 1007;
    private static final int TEXT_ARRAY = 1009;

    @Test
    void intArrayBecomesJsonArrayOfNumbers() {
        assertThat(value(INT4_ARRAY, "{1,2,3}")).isEqualTo("[1,2,3]");
        assertThat(value(INT4_ARRAY, "{}")).isEqualTo("[]");
        assertThat(value(1016, "{-9223372036854775808}")).isEqualTo("[-9223372036854775808]");
    }

    @Test
    void unquotedNullIsNullAndQuotedNullIsAString() {
        assertThat(value(INT4_ARRAY, "{1,NULL,3}")).isEqualTo("[1,null,3]");
        assertThat(value(TEXT_ARRAY, "{NULL,\"NULL\",null}")).isEqualTo("[null,\"NULL\",null]");
    }

    @Test
    void quotedElementsAreUnescaped() {
        assertThat(value(TEXT_ARRAY, "{one,\"two, three\",NULL,\"with \\\"quote\\\"\"}"))
                .isEqualTo("[\"one\",\"two, three\",null,\"with \\\"quote\\\"\"]");
        assertThat(value(TEXT_ARRAY, "{\"{braces}\",\"back\\\\slash\",\"\",\" spaced \"}"))
                .isEqualTo("[\"{braces}\",\"back\\\\slash\",\"\",\" spaced \"]");
        assertThat(value(TEXT_ARRAY, "{\"line\nbreak\",naïve}")).isEqualTo("[\"line\\nbreak\",\"naïve\"]");
    }

    @Test
    void multiDimensionalArraysNest() {
        assertThat(value(INT4_ARRAY, "{{1,2},{3,4}}")).isEqualTo("[[1,2],[3,4]]");
        assertThat(value(TEXT_ARRAY, "{{{a}},{{\"b,c\"}}}")).isEqualTo("[[[\"a\"]],[[\"b,c\"]]]");
        assertThat(value(INT4_ARRAY, "{{NULL,2},{3,NULL}}")).isEqualTo("[[null,2],[3,null]]");
    }

    @Test
    void boundsPrefixIsDropped() {
        assertThat(value(INT4_ARRAY, "[0:2]={7,8,9}")).isEqualTo("[7,8,9]");
        assertThat(value(INT4_ARRAY, "[1:2][-1:0]={{1,2},{3,4}}")).isEqualTo("[[1,2],[3,4]]");
    }

    @Test
    void elementsMapAsTheirElementType() {
        assertThat(value(1000, "{t,f,NULL}")).isEqualTo("[true,false,null]");
        assertThat(value(1022, "{1.5,NaN,-Infinity}")).isEqualTo("[1.5,\"NaN\",\"-Infinity\"]");
        assertThat(value(1231, "{1.10,NaN}")).isEqualTo("[\"1.10\",\"NaN\"]");
        assertThat(value(1185, "{\"2026-11-22 10:15:30.5+00\",infinity}"))
                .isEqualTo("[\"2026-11-22T10:15:30.5Z\",\"infinity\"]");
        assertThat(value(1001, "{\"\\\\xdeadbeef\",NULL}")).isEqualTo("[\"3q2+7w==\",null]");
        assertThat(value(2951, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"))
                .isEqualTo("[\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"]");
    }

    @Test
    void jsonbElementsAreEmbedded() {
        assertThat(value(3807, "{\"{\\\"a\\\": [1, \\\"x\\\"]}\",\"[1, 2]\",3,\"\\\"s\\\"\",\"null\",NULL}"))
                .isEqualTo("[{\"a\": [1, \"x\"]},[1, 2],3,\"s\",null,null]");
    }

    @Test
    void boxArraysUseSemicolons() {
        assertThat(value(1020, "{(3,4),(1,2);(7,8),(5,6)}")).isEqualTo("[\"(3,4),(1,2)\",\"(7,8),(5,6)\"]");
    }

    @Test
    void compositeAndRangeElementsAreTextForm() {
        assertThat(value(3905, "{\"[1,3)\",empty}")).isEqualTo("[\"[1,3)\",\"empty\"]");
    }

    @Test
    void malformedLiteralFailsClearly() {
        assertThatThrownBy(() -> value(INT4_ARRAY, "{1,2")).isInstanceOf(EventEncodingException.class)
                .hasMessage("malformed array literal: array literal ends before its closing brace near ''");
        assertThatThrownBy(() -> value(INT4_ARRAY, "1,2}")).isInstanceOf(EventEncodingException.class)
                .hasMessage("malformed array literal: expected '{' near '1,2}'");
        assertThatThrownBy(() -> value(TEXT_ARRAY, "{\"open}")).isInstanceOf(EventEncodingException.class)
                .hasMessageStartingWith("malformed array literal: quoted array element is not closed");
        assertThatThrownBy(() -> value(INT4_ARRAY, "{1}x")).isInstanceOf(EventEncodingException.class)
                .hasMessageStartingWith("malformed array literal: unexpected text after the closing brace");
    }
}
