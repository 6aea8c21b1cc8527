import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.ListTopicsOptions;

/**
 * Readiness probe used by deploy/local/kafka.sh: polls a broker with real
 * Kafka admin calls (DescribeCluster + ListTopics via Metadata) until it
 * answers, the broker process dies, or the deadline passes. Needs only
 * kafka-clients (already in .kafka/libs) on the classpath.
 *
 * Usage: KafkaReady <bootstrap host:port> <timeout seconds> [broker pid]
 * Exit:  0 ready, 2 timed out, 3 broker process exited, 64 bad usage.
 */
public final class KafkaReady {
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: KafkaReady <host:port> <timeout-seconds> [pid]");
            System.exit(64);
        }
        String bootstrap = args[0];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[1]));
        ProcessHandle broker = args.length > 2 ? ProcessHandle.of(Long.parseLong(args[2])).orElse(null) : null;

        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "kafka-sh-ready-check");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, "100");
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "200");
        props.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, "100");

        String last = "no attempt made";
        try (Admin admin = Admin.create(props)) {
            while (System.nanoTime() < deadline) {
                if (broker != null && !broker.isAlive()) {
                    System.err.println("broker process exited");
                    System.exit(3);
                }
                try {
                    int nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs(3000))
                            .nodes().get(4, TimeUnit.SECONDS).size();
                    int topics = admin.listTopics(new ListTopicsOptions().timeoutMs(3000).listInternal(true))
                            .names().get(4, TimeUnit.SECONDS).size();
                    if (nodes > 0) {
                        System.out.println("ready: " + nodes + " broker(s), " + topics + " topic(s)");
                        System.exit(0);
                    }
                    last = "cluster reports no brokers yet";
                } catch (Exception e) {
                    Throwable cause = e.getCause() != null ? e.getCause() : e;
                    last = cause.getClass().getSimpleName() + ": " + cause.getMessage();
                }
                Thread.sleep(250);
            }
        }
        System.err.println("timed out waiting for " + bootstrap + " (last error: " + last + ")");
        System.exit(2);
    }
}
