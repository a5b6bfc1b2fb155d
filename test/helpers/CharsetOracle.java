import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * Differential-test oracle for src/text (Java's charsets, as Flume uses them).
 *
 * Usage: java -cp DIR CharsetOracle < COMMANDS
 *
 * One command per stdin line, one answer per stdout line (ASCII only):
 *   A                      every charset: "name alias alias ..." separated by '|'
 *   E charset hexUtf16     String.getBytes(charset) of the UTF-16 units given in hex (4 digits each) -> hex bytes
 *   D charset hexBytes     new String(bytes, charset) -> its UTF-16 units in hex (4 digits each)
 * An unsupported charset answers "!".
 */
public final class CharsetOracle {
    private CharsetOracle() {}

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) sb.append(String.format("%02x", x & 0xff));
        return sb.toString();
    }

    private static String units(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) sb.append(String.format("%04x", (int) s.charAt(i)));
        return sb.toString();
    }

    private static byte[] bytes(String hex) {
        byte[] b = new byte[hex.length() / 2];
        for (int i = 0; i < b.length; i++) b[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        return b;
    }

    private static String text(String hex) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i + 4 <= hex.length(); i += 4) sb.append((char) Integer.parseInt(hex.substring(i, i + 4), 16));
        return sb.toString();
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        StringBuilder out = new StringBuilder();
        for (String line; (line = in.readLine()) != null; ) {
            String[] f = line.split(" ", -1);
            if (f[0].equals("A")) {
                StringBuilder sb = new StringBuilder();
                for (Charset c : Charset.availableCharsets().values()) {
                    if (sb.length() > 0) sb.append('|');
                    sb.append(c.name());
                    for (String a : c.aliases()) sb.append(' ').append(a);
                }
                out.append(sb).append('\n');
                continue;
            }
            Charset cs;
            try {
                cs = Charset.forName(f[1]);
            } catch (RuntimeException e) {
                out.append("!\n");
                continue;
            }
            String arg = f.length > 2 ? f[2] : "";
            if (f[0].equals("E")) out.append(hex(text(arg).getBytes(cs))).append('\n');
            else out.append(units(new String(bytes(arg), cs))).append('\n');
        }
        System.out.print(out);
    }
}
