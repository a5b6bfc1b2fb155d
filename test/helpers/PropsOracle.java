import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;

/**
 * Differential-test oracle for src/config/properties.ts.
 *
 * Usage: java -cp DIR PropsOracle FILE...
 *
 * Loads each FILE with java.util.Properties.load(Reader) over a UTF-8 InputStreamReader and prints one JSON
 * array to stdout, one element per FILE, in argument order:
 *   {"file":"...","entries":[["key","value"],...]}   entries sorted by key (String.compareTo = UTF-16 order)
 *   {"file":"...","error":"java.lang.IllegalArgumentException: Malformed \\uxxxx encoding."}
 * Every char outside printable ASCII, and '"' and '\', is escaped (\\uXXXX), so the output is pure ASCII and
 * unambiguous (lone surrogates survive too).
 */
public final class PropsOracle {
    private PropsOracle() {}

    private static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"') {
                sb.append("\\\"");
            } else if (c == '\\') {
                sb.append("\\\\");
            } else if (c < 0x20 || c >= 0x7f) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        sb.append('"');
    }

    public static void main(String[] args) {
        StringBuilder sb = new StringBuilder();
        sb.append('[');
        for (int a = 0; a < args.length; a++) {
            if (a > 0) sb.append(",\n");
            sb.append("{\"file\":");
            quote(sb, args[a]);
            Properties p = new Properties();
            String error = null;
            try (Reader r = new InputStreamReader(new FileInputStream(args[a]), StandardCharsets.UTF_8)) {
                p.load(r);
            } catch (Exception e) {
                error = e.getClass().getName() + ": " + e.getMessage();
            }
            if (error != null) {
                sb.append(",\"error\":");
                quote(sb, error);
            } else {
                List<String> keys = new ArrayList<>(p.stringPropertyNames());
                Collections.sort(keys);
                sb.append(",\"entries\":[");
                for (int k = 0; k < keys.size(); k++) {
                    if (k > 0) sb.append(',');
                    sb.append('[');
                    quote(sb, keys.get(k));
                    sb.append(',');
                    quote(sb, p.getProperty(keys.get(k)));
                    sb.append(']');
                }
                sb.append(']');
            }
            sb.append('}');
        }
        sb.append("]\n");
        System.out.print(sb);
        System.out.flush();
    }
}
