import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Admin tool for the local secure broker (deploy/local/kafka.sh with KAFKA_SECURE=1). kafkajs cannot
 * manage SCRAM users or ACLs, and Kafka 4.x ships no ACL command in the broker jars, so this uses the
 * Java Admin API directly. Needs only kafka-clients on the classpath.
 *
 * apply <client.properties> <timeout-s> <broker-pid> <plan-file>
 *   waits until the broker answers as the super user, then makes users, topics and ACLs match the
 *   plan (deploy/local/secure/acl-matrix.cjs plan): upserts every SCRAM-SHA-512 user with the password
 *   in its file, creates missing topics and waits until their leaders serve them, adds missing ACLs
 *   and removes ACLs of those users that the plan no longer grants. Exit 0 done, 2 timed out,
 *   3 broker exited, 1 failed.
 * authz <client.properties>[,<client.properties>...] <topic>...
 *   for each client config (one principal each), prints per topic the operations the broker
 *   authorizes ("<config> <topic> op,op,..."; "-" when it may not even see the topic). The test of
 *   the ACL matrix uses it: the broker's own answer, without writing to any topic.
 */
public final class SecureAdmin {
    private static final int SCRAM_ITERATIONS = 8192;

    public static void main(String[] args) throws Exception {
        if (args.length >= 5 && args[0].equals("apply")) {
            System.exit(apply(clientProps(args[1]), Long.parseLong(args[2]), Long.parseLong(args[3]), Path.of(args[4])));
        } else if (args.length >= 3 && args[0].equals("authz")) {
            int rc = 0;
            for (String file : args[1].split(",")) rc |= authz(file, clientProps(file), List.of(args).subList(2, args.length));
            System.exit(rc);
        }
        System.err.println("usage: SecureAdmin apply <client.properties> <timeout-s> <pid> <plan> | authz <client.properties> <topic>...");
        System.exit(64);
    }

    private static Properties clientProps(String file) throws Exception {
        Properties props = new Properties();
        try (InputStream in = new FileInputStream(file)) {
            props.load(in);
        }
        props.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "kafka-sh-secure-admin");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, "100");
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "300");
        props.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, "100");
        return props;
    }

    private static int apply(Properties props, long timeoutSec, long pid, Path planFile) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSec);
        ProcessHandle broker = pid > 0 ? ProcessHandle.of(pid).orElse(null) : null;
        Plan plan = Plan.read(planFile);
        try (Admin admin = Admin.create(props)) {
            String last = "no attempt made";
            boolean ready = false;
            while (!ready && System.nanoTime() < deadline) {
                if (broker != null && !broker.isAlive()) {
                    System.err.println("broker process exited");
                    return 3;
                }
                try {
                    ready = !admin.describeCluster(new DescribeClusterOptions().timeoutMs(3000)).nodes().get(4, TimeUnit.SECONDS).isEmpty();
                } catch (Exception e) {
                    Throwable cause = e.getCause() != null ? e.getCause() : e;
                    last = cause.getClass().getSimpleName() + ": " + cause.getMessage();
                    Thread.sleep(250);
                }
            }
            if (!ready) {
                System.err.println("timed out waiting for the broker (last error: " + last + ")");
                return 2;
            }

            List<UserScramCredentialAlteration> users = new ArrayList<>();
            for (Map.Entry<String, Path> u : plan.users.entrySet()) {
                String password = Files.readString(u.getValue(), StandardCharsets.UTF_8).strip();
                users.add(new UserScramCredentialUpsertion(u.getKey(), new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS), password));
            }
            admin.alterUserScramCredentials(users).all().get(30, TimeUnit.SECONDS);

            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            plan.topics.forEach((name, partitions) -> {
                if (!existing.contains(name)) missing.add(new NewTopic(name, partitions, (short) 1));
            });
            if (!missing.isEmpty()) {
                try {
                    admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) throw e;
                }
            }
            // Creating the partitions is bounded work with its own budget, however long the broker took to boot.
            awaitLeaders(admin, plan.topics.keySet(), System.nanoTime() + TimeUnit.SECONDS.toNanos(120));

            Set<String> managed = new HashSet<>();
            for (String user : plan.users.keySet()) managed.add("User:" + user);
            Collection<AclBinding> current = admin.describeAcls(AclBindingFilter.ANY).values().get(30, TimeUnit.SECONDS);
            List<AclBindingFilter> stale = new ArrayList<>();
            for (AclBinding b : current) {
                if (managed.contains(b.entry().principal()) && !plan.acls.contains(b)) stale.add(b.toFilter());
            }
            if (!stale.isEmpty()) admin.deleteAcls(stale).all().get(30, TimeUnit.SECONDS);
            List<AclBinding> toAdd = new ArrayList<>();
            for (AclBinding b : plan.acls) if (!current.contains(b)) toAdd.add(b);
            if (!toAdd.isEmpty()) admin.createAcls(toAdd).all().get(30, TimeUnit.SECONDS);

            System.out.println("applied: " + users.size() + " users, " + plan.topics.size() + " topics (" + missing.size() + " created), "
                    + plan.acls.size() + " ACLs (" + toAdd.size() + " added, " + stale.size() + " removed)");
            return 0;
        } catch (Exception e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            System.err.println("failed: " + cause.getClass().getSimpleName() + ": " + cause.getMessage());
            return 1;
        }
    }

    /**
     * New partitions are usable once their leader serves them: the metadata names a leader a little
     * before the broker has created the log (a busy machine widens the gap), so this asks every
     * partition for its end offset, as a client would, until all answer.
     */
    private static void awaitLeaders(Admin admin, Collection<String> topics, long deadline) throws Exception {
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                Map<TopicPartition, OffsetSpec> request = new HashMap<>();
                for (TopicDescription d : admin.describeTopics(topics).allTopicNames().get(30, TimeUnit.SECONDS).values()) {
                    for (var p : d.partitions()) request.put(new TopicPartition(d.name(), p.partition()), OffsetSpec.latest());
                }
                admin.listOffsets(request).all().get(30, TimeUnit.SECONDS);
                return;
            } catch (ExecutionException e) {
                last = e.getCause().getMessage();
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException("topics not served by their leaders within the start timeout: " + last);
    }

    private static int authz(String label, Properties props, List<String> topics) throws Exception {
        try (Admin admin = Admin.create(props)) {
            for (String topic : topics) {
                String ops;
                try {
                    TopicDescription d = admin.describeTopics(List.of(topic), new DescribeTopicsOptions().includeAuthorizedOperations(true))
                            .allTopicNames().get(15, TimeUnit.SECONDS).get(topic);
                    Set<String> names = new TreeSet<>();
                    for (AclOperation op : d.authorizedOperations()) names.add(op.name());
                    ops = String.join(",", names);
                } catch (ExecutionException e) {
                    ops = "-";
                }
                System.out.println(label + " " + topic + " " + ops);
            }
            return 0;
        }
    }

    /** Users (name -> password file), topics (name -> partitions) and ACL bindings, one per line. */
    private static final class Plan {
        final Map<String, Path> users = new LinkedHashMap<>();
        final Map<String, Integer> topics = new LinkedHashMap<>();
        final Set<AclBinding> acls = new HashSet<>();

        static Plan read(Path file) throws Exception {
            Plan plan = new Plan();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String[] f = line.trim().split("\\s+");
                if (f.length == 0 || f[0].isEmpty() || f[0].startsWith("#")) continue;
                switch (f[0]) {
                    case "user" -> plan.users.put(f[1], Path.of(f[2]));
                    case "topic" -> plan.topics.put(f[1], Integer.parseInt(f[2]));
                    case "acl" -> plan.acls.add(new AclBinding(
                            new ResourcePattern(ResourceType.valueOf(f[2].toUpperCase()), f[4], f[3].equals("prefix") ? PatternType.PREFIXED : PatternType.LITERAL),
                            new AccessControlEntry(f[1], "*", operation(f[5]), AclPermissionType.ALLOW)));
                    default -> throw new IllegalArgumentException("bad plan line: " + line);
                }
            }
            return plan;
        }

        /** "IdempotentWrite" -> IDEMPOTENT_WRITE. */
        private static AclOperation operation(String camel) {
            return AclOperation.valueOf(camel.replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase());
        }
    }
}
