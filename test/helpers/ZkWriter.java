// An independent ZooKeeper client for tests: Apache ZooKeeper's own Java client (Debian's zookeeper.jar, the client
// under Flume's Curator), kept running so that a test writes znodes without a JVM start per write (zkCli.sh costs
// about a second each). Run as a single-file program:
//   java -cp /usr/share/java/zookeeper.jar test/helpers/ZkWriter.java host:port
// Reads one command per line on stdin and answers one line on stdout:
//   put <path> <base64 data>   create the znode (and missing parents) or set its data  -> "ok <data version>"
//   delete <path>              delete the znode                                          -> "ok"
// Errors answer "err <message>".
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

public class ZkWriter {
  static ZooKeeper connect(String servers) throws Exception {
    CountDownLatch connected = new CountDownLatch(1);
    ZooKeeper zk =
        new ZooKeeper(
            servers,
            10000,
            e -> {
              if (e.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
            });
    if (!connected.await(20, TimeUnit.SECONDS)) throw new IllegalStateException("cannot connect to " + servers);
    return zk;
  }

  public static void main(String[] args) throws Exception {
    ZooKeeper zk = connect(args[0]);
    System.out.println("ready");
    System.out.flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      String[] w = line.split(" ", 3);
      // a server restarted under the writer: a new session when the old one expired, a retry after a lost connection
      for (int attempt = 1; ; attempt++) {
        try {
          run(zk, w);
          break;
        } catch (KeeperException.SessionExpiredException | KeeperException.ConnectionLossException e) {
          if (attempt == 5) {
            System.out.println("err " + e);
            break;
          }
          if (e instanceof KeeperException.SessionExpiredException) {
            zk.close();
            zk = connect(args[0]);
          } else {
            Thread.sleep(500);
          }
        } catch (Exception e) {
          System.out.println("err " + e);
          break;
        }
      }
      System.out.flush();
    }
    zk.close();
  }

  static void run(ZooKeeper zk, String[] w) throws Exception {
    if (w[0].equals("put")) {
      byte[] data = w.length > 2 ? Base64.getDecoder().decode(w[2]) : new byte[0];
      String[] parts = w[1].substring(1).split("/");
      String p = "";
      for (int i = 0; i < parts.length - 1; i++) {
        p += "/" + parts[i];
        try {
          zk.create(p, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        } catch (KeeperException.NodeExistsException ignored) {
          // already there
        }
      }
      Stat st;
      try {
        zk.create(w[1], data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        st = zk.exists(w[1], false);
      } catch (KeeperException.NodeExistsException e) {
        st = zk.setData(w[1], data, -1);
      }
      System.out.println("ok " + st.getVersion());
    } else if (w[0].equals("delete")) {
      zk.delete(w[1], -1);
      System.out.println("ok");
    } else {
      System.out.println("err unknown command " + w[0]);
    }
  }
}
