package io.pgrelay.agent.config;

import com.fasterxml.jackson.databind.util.StdConverter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/** Hides credentials that sit inside plain settings: a JDBC URL's password, a producer's SASL or SSL passwords. */
public final class Masking {

    private static final Pattern URL_USER_INFO = Pattern.compile("(//[^/:@?]*:)[^@/?]*@");
    private static final Pattern URL_SECRET_PARAM = Pattern.compile("(?i)([?&][^=&]*(?:password|token|key|secret|sig)[^=&]*=)[^&]*");
    private static final Pattern URL_PASSWORD_PARAM = Pattern.compile("(?i)([?&][^=&]*password[^=&]*=)[^&]*");

    private Masking() {
    }

    /** {@code jdbc:postgresql://h/db?user=u&password=x} → {@code …&password=****}; also {@code //u:x@h}. */
    public static String jdbcUrl(String url) {
        if (url == null) {
            return null;
        }
        String s = URL_USER_INFO.matcher(url).replaceAll("$1" + Secret.MASK + "@");
        return URL_PASSWORD_PARAM.matcher(s).replaceAll("$1" + Secret.MASK);
    }

    /** Any URL with its user-info password and password/token/key query parameters masked, for messages. */
    public static String url(String url) {
        if (url == null) {
            return null;
        }
        String s = URL_USER_INFO.matcher(url).replaceAll("$1" + Secret.MASK + "@");
        return URL_SECRET_PARAM.matcher(s).replaceAll("$1" + Secret.MASK);
    }

    /** True for producer settings that carry a credential ({@code ssl.key.password}, {@code sasl.jaas.config}, …). */
    public static boolean isSecretSetting(String key) {
        String k = key.toLowerCase(Locale.ROOT);
        return k.contains("password") || k.contains("jaas") || k.contains("secret") || k.contains("token")
                || k.contains("credential");
    }

    /** The producer settings, sorted, with credential values masked. */
    public static Map<String, String> producer(Map<String, String> producer) {
        Map<String, String> out = new LinkedHashMap<>();
        new TreeMap<>(producer).forEach((k, v) -> out.put(k, isSecretSetting(k) ? Secret.MASK : v));
        return out;
    }

    /** Lets Jackson write a JDBC URL only masked. */
    public static final class JdbcUrlConverter extends StdConverter<String, String> {
        @Override
        public String convert(String url) {
            return jdbcUrl(url);
        }
    }

    /** Lets Jackson write producer settings only masked. */
    public static final class ProducerConverter extends StdConverter<Map<String, String>, Map<String, String>> {
        @Override
        public Map<String, String> convert(Map<String, String> settings) {
            return producer(settings);
        }
    }
}
