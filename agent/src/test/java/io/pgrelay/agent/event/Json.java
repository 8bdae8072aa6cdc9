package io.pgrelay.agent.event;

import java.nio.charset.StandardCharsets;

/** Test helpers: one value through its type's codec, as JSON text. */
final class Json {

    private Json() {
    }

    static String value(int oid, String pgText) {
        return value(ValueCodecs.forType(oid, BuiltinTypes.CATALOG), pgText);
    }

    static String value(ValueCodec codec, String pgText) {
        JsonBuffer out = new JsonBuffer(8);
        byte[] text = pgText.getBytes(StandardCharsets.UTF_8);
        // Surround the value with other bytes: codecs must honour offset and length.
        byte[] framed = new byte[text.length + 6];
        System.arraycopy(text, 0, framed, 3, text.length);
        framed[0] = framed[1] = framed[2] = framed[framed.length - 1] = framed[framed.length - 2] = framed[framed.length - 3] = '#';
        codec.write(framed, 3, text.length, out);
        return out.toString();
    }
}
