package org.dubbomesh.peer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ProtocolConfig;
import org.apache.dubbo.config.RegistryConfig;
import org.apache.dubbo.config.ServiceConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;
import org.dubbomesh.peer.greeter.Greeter;

/**
 * A real Dubbo 3.3 provider, configured only from the command line so the conformance fixture can
 * give every instance its own ports, groups and weights:
 *
 * <pre>
 * --zk HOST:PORT --app NAME --dubbo-port N --tri-port N
 * [--echo-group G] [--echo-version V] [--echo-weight W]
 * [--greeter-group G] [--greeter-version V] [--greeter-weight W]
 * [--register-mode all|interface|instance] [--metadata-type local|remote] [--root GROUP] [--session-ms 4000] [--host IP]
 * </pre>
 *
 * Prints one line {@code DUBBOMESH-PEER READY} once every service is exported and registered.
 */
public final class Provider33 {
    private Provider33() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = parse(args);
        String app = opt.getOrDefault("app", "dm-peer-33");
        String host = opt.get("host");

        ApplicationConfig application = new ApplicationConfig(app);
        application.setQosEnable(false);
        application.setRegisterMode(opt.getOrDefault("register-mode", "all"));
        application.setMetadataType(opt.getOrDefault("metadata-type", "local"));

        RegistryConfig registry = new RegistryConfig("zookeeper://" + need(opt, "zk"));
        if (opt.containsKey("root")) {
            // Note: in Dubbo 3 a registry group also moves application-level instances from
            // /services/<app> to /<group>/<app>.
            registry.setGroup(opt.get("root"));
        }
        registry.setTimeout(10000);
        registry.setSession(Integer.parseInt(opt.getOrDefault("session-ms", "4000")));

        ProtocolConfig dubbo = new ProtocolConfig("dubbo", Integer.parseInt(need(opt, "dubbo-port")));
        ProtocolConfig tri = new ProtocolConfig("tri", Integer.parseInt(need(opt, "tri-port")));
        if (host != null) {
            dubbo.setHost(host);
            tri.setHost(host);
        }

        String servedBy = app + "@" + (host == null ? "" : host);
        ServiceConfig<EchoService> echo = new ServiceConfig<>();
        echo.setInterface(EchoService.class);
        echo.setRef(message -> message + " from " + servedBy + ":" + dubbo.getPort());
        echo.setProtocol(dubbo);
        echo.setGroup(opt.get("echo-group"));
        echo.setVersion(opt.get("echo-version"));
        echo.setWeight(Integer.valueOf(opt.getOrDefault("echo-weight", "100")));

        ServiceConfig<Greeter> greeter = new ServiceConfig<>();
        greeter.setInterface(Greeter.class);
        greeter.setRef(new GreeterImpl(servedBy + ":" + tri.getPort()));
        greeter.setProtocol(tri);
        greeter.setGroup(opt.get("greeter-group"));
        greeter.setVersion(opt.get("greeter-version"));
        greeter.setWeight(Integer.valueOf(opt.getOrDefault("greeter-weight", "100")));

        List<ProtocolConfig> protocols = new ArrayList<>(List.of(dubbo, tri));
        DubboBootstrap.getInstance()
                .application(application)
                .registry(registry)
                .protocols(protocols)
                .service(echo)
                .service(greeter)
                .start();
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
