package org.dubbomesh.peer;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ProtocolConfig;
import org.apache.dubbo.config.RegistryConfig;
import org.apache.dubbo.config.ServiceConfig;

/**
 * A real Dubbo 2.7 provider configured from the command line:
 *
 * <pre>
 * --zk HOST:PORT --app NAME --dubbo-port N [--group G] [--version V] [--weight W]
 * [--root dubbo] [--session-ms 4000] [--host IP]
 * </pre>
 *
 * Prints {@code DUBBOMESH-PEER READY} once the service is exported and registered.
 */
public final class Provider27 {
    private Provider27() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = parse(args);
        String app = opt.getOrDefault("app", "dm-peer-27");
        String host = opt.get("host");

        ApplicationConfig application = new ApplicationConfig(app);
        application.setQosEnable(false);

        RegistryConfig registry = new RegistryConfig("zookeeper://" + need(opt, "zk"));
        if (opt.containsKey("root")) {
            registry.setGroup(opt.get("root"));
        }
        registry.setTimeout(10000);
        registry.setSession(Integer.parseInt(opt.getOrDefault("session-ms", "4000")));

        ProtocolConfig dubbo = new ProtocolConfig("dubbo", Integer.parseInt(need(opt, "dubbo-port")));
        if (host != null) {
            dubbo.setHost(host);
        }

        String servedBy = app + "@" + (host == null ? "" : host) + ":" + dubbo.getPort();
        ServiceConfig<EchoService> echo = new ServiceConfig<>();
        echo.setApplication(application);
        echo.setRegistry(registry);
        echo.setProtocol(dubbo);
        echo.setInterface(EchoService.class);
        echo.setRef(message -> message + " from " + servedBy);
        echo.setGroup(opt.get("group"));
        echo.setVersion(opt.get("version"));
        echo.setWeight(Integer.valueOf(opt.getOrDefault("weight", "100")));
        echo.export();

        System.out.println("DUBBOMESH-PEER READY");
        System.out.flush();
        new CountDownLatch(1).await();
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --key value pairs, got " + args[i]);
            }
            out.put(args[i].substring(2), args[i + 1]);
        }
        return out;
    }

    static String need(Map<String, String> opt, String key) {
        String v = opt.get(key);
        if (v == null) {
            throw new IllegalArgumentException("missing --" + key);
        }
        return v;
    }
}
