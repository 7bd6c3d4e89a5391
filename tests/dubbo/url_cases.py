"""Registry strings modelled on what real Dubbo registries contain, with hand-written expectations.

Sources of the shapes (not copied): Java 2.5/2.6/2.7/3.x provider and consumer nodes quoted in
issue threads and blog posts, dubbo-go's registration code (``url.Values.Encode`` then
``url.QueryEscape``: values end up encoded twice), dubbo-admin overrides and routers. Inputs are
either literal node names or built here with ``java()`` / ``go()``, test-side re-statements of
Java ``URLEncoder`` and Go ``url.QueryEscape``; expected values are written by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote_plus


def java(url: str) -> str:
    """Java ``URLEncoder.encode(url, "UTF-8")``."""
    return quote_plus(url, safe="*").replace("~", "%7E")


def go(url: str) -> str:
    """Go ``url.QueryEscape(url)`` (escapes ``*``, keeps ``~``)."""
    return quote_plus(url)


def go_values(**values: str) -> str:
    """Go ``url.Values.Encode()``: sorted by key, keys and values query-escaped."""
    return "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in sorted(values.items()))


@dataclass(frozen=True)
class Case:
    id: str
    input: str
    expect: dict[str, object] = field(default_factory=dict)
    """A subset of ``Decoded.to_json()``; ``params`` entries are checked one by one."""
    warnings: tuple[str, ...] = ()
    """Exactly these warning codes (order free)."""
    error: str | None = None
    """A substring of the error, or None for success."""
    directory: str | None = None
    """When set, decoded with ``decode_node(input, directory=...)``; else with ``decode_any``."""
    props: dict[str, object] = field(default_factory=dict)
    """Expected ``DubboUrl`` properties."""


_MONITOR = (
    "dubbo://10.0.0.9:7070/com.alibaba.dubbo.registry.RegistryService?application=teacher-svc"
    "&dubbo=2.5.3&pid=28486&protocol=registry&refer=dubbo%3D2.5.3%26interface%3D"
    "com.alibaba.dubbo.monitor.MonitorService%26pid%3D28486&registry=zookeeper"
    "&timestamp=1569465229160"
)
_SCRIPT = (
    "function route(invokers) { var r = []; for (var i = 0; i < invokers.size(); i++) "
    '{ if ("10.20.153.10" == invokers.get(i).getUrl().getHost()) { r.add(invokers.get(i)); } } '
    "return r; } (invokers);"
)
_GO15 = go_values(
    anyhost="true",
    **{"app.version": "0.3.1", "bean.name": "UserProvider", "registry.role": "3"},
    application="BDTService",
    cluster="failover",
    environment="dev",
    export="true",
    interface="com.ikurento.user.UserProvider",
    ip="10.0.3.7",
    loadbalance="random",
    methods="GetUser,GetUser0",
    module="dubbogo user-info server",
    name="BDTService",
    organization="ikurento.com",
    owner="ZX",
    pid="51292",
    release="dubbo-golang-1.5.0",
    side="provider",
    timestamp="1593506380",
    warmup="100",
    **{"service.filter": "echo,token,accesslog"},
)
_FOO = "interface=com.acme.Foo&side=provider"

CASES: tuple[Case, ...] = (
    # ------------------------------------------------------------- Java 2.5 / 2.6
    Case(
        "java2.5-provider-literal",
        "dubbo%3A%2F%2F10.12.3.41%3A20891%2Fcom.acme.search.StockSearchService%3Fanyhost%3Dtrue"
        "%26application%3Dsearch-provider%26dubbo%3D2.5.3%26interface%3D"
        "com.acme.search.StockSearchService%26logger%3Dslf4j%26methods%3DfindStock%2CfindStockDoc"
        "%26pid%3D18460%26revision%3D0.0.2-SNAPSHOT%26side%3Dprovider%26threads%3D100"
        "%26timestamp%3D1572509354829",
        {
            "protocol": "dubbo",
            "host": "10.12.3.41",
            "port": 20891,
            "path": "com.acme.search.StockSearchService",
            "interface": "com.acme.search.StockSearchService",
            "service_key": "com.acme.search.StockSearchService",
            "category": "providers",
            "side": "provider",
            "routable": True,
            "endpoint_address": "10.12.3.41",
            "params": {"methods": "findStock,findStockDoc", "revision": "0.0.2-SNAPSHOT"},
        },
        props={"timestamp_ms": 1572509354829, "weight": 100, "application": "search-provider"},
    ),
    Case(
        "java2.6-default-keys",
        java(
            "dubbo://10.20.30.40:20880/com.acme.order.OrderService?anyhost=true"
            "&application=order-service&default.retries=0&default.timeout=5000&dubbo=2.6.2"
            "&generic=false&interface=com.acme.order.OrderService&methods=create,cancel,query"
            "&pid=2101&retries=2&side=provider&timestamp=1533542912345"
        ),
        {"params": {"timeout": "5000", "retries": "2", "default.retries": "0"}},
    ),
    Case(
        "java2.6-group-version",
        java(
            "dubbo://10.20.30.41:20880/com.acme.user.UserService?anyhost=true"
            "&application=user-center&dubbo=2.6.5&generic=false&group=gold"
            "&interface=com.acme.user.UserService&methods=get,list&pid=331&revision=1.2.0"
            "&side=provider&timestamp=1546300800000&version=1.2.0"
        ),
        {
            "group": "gold",
            "version": "1.2.0",
            "service_key": "gold/com.acme.user.UserService:1.2.0",
        },
    ),
    Case(
        "java2.5-monitor-decoded-exactly-twice",
        java(
            "dubbo://10.0.0.21:20880/com.acme.school.TeacherService?anyhost=true"
            "&application=teacher-svc&dubbo=2.5.3&interface=com.acme.school.TeacherService"
            f"&methods=add,find&monitor={java(_MONITOR)}&pid=28486&side=provider"
            "&timestamp=1569465229160"
        ),
        {"params": {"monitor": _MONITOR, "methods": "add,find"}},
    ),
    Case(
        "java2.6-consumer",
        java(
            "consumer://10.20.30.50/com.acme.order.OrderService?application=web-gateway"
            "&category=consumers&check=false&dubbo=2.6.2&interface=com.acme.order.OrderService"
            "&methods=create,cancel,query&pid=9921&side=consumer&timestamp=1533542999999"
        ),
        {
            "protocol": "consumer",
            "host": "10.20.30.50",
            "port": 0,
            "category": "consumers",
            "side": "consumer",
            "routable": False,
        },
    ),
    # ------------------------------------------------------------- Java 2.7
    Case(
        "java2.7-method-params",
        java(
            "dubbo://192.168.56.1:20880/com.acme.menu.MenuService?anyhost=true"
            "&application=menu-provider&application.version=1.0.0&deprecated=false&dubbo=2.0.2"
            "&dynamic=true&generic=false&interface=com.acme.menu.MenuService&methods=sayHi"
            "&pid=250480&register=true&release=2.7.3&sayHi.retries=1&sayHi.timeout=1000"
            "&side=provider&timestamp=1571210291234"
        ),
        {"params": {"sayHi.timeout": "1000", "release": "2.7.3", "application.version": "1.0.0"}},
    ),
    Case(
        "java2.7-bind-ip-anyhost",
        java(
            "dubbo://172.16.8.12:20880/org.apache.dubbo.demo.DemoService?anyhost=true"
            "&application=demo-provider&bind.ip=172.16.8.12&bind.port=20880&deprecated=false"
            "&dubbo=2.0.2&dynamic=true&generic=false&interface=org.apache.dubbo.demo.DemoService"
            "&metadata-type=remote&methods=sayHello,sayHelloAsync&pid=4292&qos.port=22222"
            "&release=2.7.8&side=provider&timestamp=1600000000000"
        ),
        {"host": "172.16.8.12", "routable": True, "params": {"anyhost": "true"}},
    ),
    Case(
        "java2.7.1-persistent-weighted",
        java(
            "dubbo://10.3.0.8:20880/com.acme.stock.StockService?application=stock&dynamic=false"
            "&interface=com.acme.stock.StockService&methods=reserve&pid=77&release=2.7.1"
            "&side=provider&timestamp=1556000000000&warmup=60000&weight=200"
        ),
        {"params": {"dynamic": "false", "warmup": "60000"}},
        props={"weight": 200, "enabled": True, "disabled": False},
    ),
    # ------------------------------------------------------------- Java 3.x
    Case(
        "java3-dubbo-provider",
        java(
            "dubbo://10.244.1.17:20880/org.apache.dubbo.samples.api.GreetingsService?anyhost=true"
            "&application=first-dubbo-provider&background=false&deprecated=false&dubbo=2.0.2"
            "&dynamic=true&executor-management-mode=isolation&file-cache=true&generic=false"
            "&interface=org.apache.dubbo.samples.api.GreetingsService&methods=sayHi&pid=1"
            "&prefer.serialization=fastjson2,hessian2&release=3.2.0&service-name-mapping=true"
            "&side=provider&timestamp=1674960780647"
        ),
        {
            "service_key": "org.apache.dubbo.samples.api.GreetingsService",
            "params": {"prefer.serialization": "fastjson2,hessian2", "release": "3.2.0"},
        },
        props={"application": "first-dubbo-provider"},
    ),
    Case(
        "java3-tri-provider",
        java(
            "tri://10.244.1.18:50051/org.apache.dubbo.samples.tri.Greeter?application=tri-provider"
            "&deprecated=false&dubbo=2.0.2&dynamic=true&generic=false"
            "&interface=org.apache.dubbo.samples.tri.Greeter&methods=greet,greetStream&pid=7"
            "&release=3.2.9&serialization=protobuf&side=provider&timestamp=1700000000123"
        ),
        {"protocol": "tri", "port": 50051, "routable": True},
    ),
    Case(
        "java3-tri-group-version",
        java(
            "tri://10.244.2.9:50051/com.acme.pay.PayService?application=pay&group=canary"
            "&interface=com.acme.pay.PayService&methods=pay,refund&release=3.3.0&side=provider"
            "&timestamp=1710000000000&version=2.0.0"
        ),
        {"service_key": "canary/com.acme.pay.PayService:2.0.0", "group": "canary"},
    ),
    Case(
        "java3.1-dual-stack-ipv6-param",
        java(
            "dubbo://10.1.2.3:20880/com.acme.geo.GeoService?application=geo"
            "&interface=com.acme.geo.GeoService&ipv6=2408:4002:10f0::12&methods=locate"
            "&release=3.1.4&side=provider&timestamp=1680000000000"
        ),
        {"host": "10.1.2.3", "params": {"ipv6": "2408:4002:10f0::12"}},
    ),
    Case(
        "java3-bracketed-ipv6",
        java(
            "dubbo://[2001:db8:0:1::17]:20880/com.acme.geo.GeoService?application=geo"
            "&interface=com.acme.geo.GeoService&methods=locate&release=3.2.4&side=provider"
            "&timestamp=1690000000000"
        ),
        {
            "host": "[2001:db8:0:1::17]",
            "port": 20880,
            "endpoint_address": "2001:db8:0:1::17",
            "routable": True,
        },
    ),
    Case(
        "java2.7-unbracketed-ipv6-full-form",
        java(
            "dubbo://2001:db8:0:0:0:0:0:17:20880/com.acme.geo.GeoService?anyhost=true"
            "&application=geo&interface=com.acme.geo.GeoService&methods=locate&release=2.7.15"
            "&side=provider&timestamp=1640000000000"
        ),
        {
            "host": "2001:db8:0:0:0:0:0:17",
            "port": 20880,
            "endpoint_address": "2001:db8:0:0:0:0:0:17",
        },
    ),
    Case(
        "java2.7-ipv6-zone-consumer-no-port",
        java(
            "consumer://fe80:0:0:0:894:aeec:f37d:23e1%en0/com.acme.geo.GeoService"
            "?application=geo-web&category=consumers&interface=com.acme.geo.GeoService"
            "&side=consumer&timestamp=1640000000001"
        ),
        {
            "host": "fe80:0:0:0:894:aeec:f37d:23e1%en0",
            "port": 0,
            "endpoint_address": "fe80:0:0:0:894:aeec:f37d:23e1",
        },
    ),
    Case(
        "ipv6-zone-with-port",
        java(
            "dubbo://fe80::a00:27ff:fe4e:66a1%eth0:20880/com.acme.geo.GeoService"
            "?interface=com.acme.geo.GeoService&side=provider"
        ),
        {
            "host": "fe80::a00:27ff:fe4e:66a1%eth0",
            "port": 20880,
            "endpoint_address": "fe80::a00:27ff:fe4e:66a1",
            "routable": True,
        },
    ),
    # ------------------------------------------------------------- every protocol
    Case(
        "rest-provider-contextpath",
        java(
            "rest://10.0.5.5:8080/api/com.acme.user.UserRestService?anyhost=true"
            "&application=user-rest&contextpath=api&interface=com.acme.user.UserRestService"
            "&methods=getUser,register&pid=55&release=2.7.8&server=tomcat&side=provider"
            "&timestamp=1601000000000"
        ),
        {
            "protocol": "rest",
            "path": "api/com.acme.user.UserRestService",
            "interface": "com.acme.user.UserRestService",
            "service_key": "com.acme.user.UserRestService",
        },
    ),
    Case(
        "hessian-provider",
        java(
            "hessian://10.0.5.6:8081/com.acme.legacy.LegacyService?application=legacy"
            "&interface=com.acme.legacy.LegacyService&methods=ping&server=jetty&side=provider"
            "&timestamp=1500000000000"
        ),
        {"protocol": "hessian", "port": 8081, "routable": True},
    ),
    Case(
        "http-provider",
        java(
            "http://10.0.5.7:8082/com.acme.report.ReportService?application=report"
            "&interface=com.acme.report.ReportService&methods=daily&server=servlet&side=provider"
        ),
        {"protocol": "http", "port": 8082},
    ),
    Case(
        "webservice-provider",
        java(
            "webservice://10.0.5.8:8083/com.acme.soap.SoapService?application=soap"
            "&interface=com.acme.soap.SoapService&methods=call&server=jetty&side=provider"
        ),
        {"protocol": "webservice", "interface": "com.acme.soap.SoapService"},
    ),
    Case(
        "thrift-provider",
        java(
            "thrift://10.0.5.9:40880/com.acme.thrift.Calculator$Iface?application=calc"
            "&interface=com.acme.thrift.Calculator$Iface&methods=add&side=provider"
        ),
        {"protocol": "thrift", "port": 40880, "interface": "com.acme.thrift.Calculator$Iface"},
        directory="com.acme.thrift.Calculator%24Iface",
    ),
    Case(
        "grpc-provider",
        java(
            "grpc://10.0.5.10:50051/com.acme.grpc.Greeter?application=grpc-app"
            "&interface=com.acme.grpc.Greeter&methods=sayHello&release=2.7.15&side=provider"
        ),
        {"protocol": "grpc", "port": 50051},
    ),
    Case(
        "jsonrpc-dubbo-go",
        go(
            "jsonrpc://10.0.5.11:20001/com.acme.json.UserProvider?"
            + go_values(
                interface="com.acme.json.UserProvider",
                methods="GetUser",
                release="dubbo-golang-1.5.7",
                side="provider",
                timestamp="1620000000",
            )
        ),
        {"protocol": "jsonrpc", "port": 20001},
        props={"timestamp_ms": 1620000000000},
    ),
    Case(
        "rmi-provider",
        java(
            "rmi://10.0.5.12:1099/com.acme.rmi.Clock?application=clock&interface=com.acme.rmi.Clock"
            "&methods=now&side=provider"
        ),
        {"protocol": "rmi", "port": 1099},
    ),
    # ------------------------------------------------------------- dubbo-go
    Case(
        "dubbo-go-1.5-double-encoded-values",
        go(f"dubbo://10.0.3.7:20000/com.ikurento.user.UserProvider?{_GO15}"),
        {
            "host": "10.0.3.7",
            "port": 20000,
            "service_key": "com.ikurento.user.UserProvider",
            "params": {
                "methods": "GetUser%2CGetUser0",
                "module": "dubbogo+user-info+server",
                "service.filter": "echo%2Ctoken%2Caccesslog",
                "export": "true",
                "registry.role": "3",
            },
        },
        warnings=("encoded-value",),
        props={"timestamp_ms": 1593506380000, "weight": 100},
        directory="com.ikurento.user.UserProvider",
    ),
    Case(
        "dubbo-go-3-tri-seconds",
        go(
            "tri://10.0.3.10:20000/com.acme.greet.GreetService?"
            + go_values(
                **{"app.version": ""},
                application="dubbogo-greet",
                interface="com.acme.greet.GreetService",
                methods="Greet",
                release="dubbo-golang-3.0.4",
                side="provider",
                timestamp="1677000000",
            )
        ),
        {"protocol": "tri", "params": {"app.version": "", "release": "dubbo-golang-3.0.4"}},
        props={"timestamp_ms": 1677000000000},
    ),
    Case(
        "dubbo-go-path-differs-from-interface",
        go(
            "dubbo://10.0.3.8:20000/com.ikurento.user.UserProvider2?"
            + go_values(
                group="as",
                interface="com.ikurento.user.UserProvider",
                methods="GetUser",
                side="provider",
                version="2.0",
            )
        ),
        {
            "path": "com.ikurento.user.UserProvider2",
            "interface": "com.ikurento.user.UserProvider",
            "service_key": "as/com.ikurento.user.UserProvider:2.0",
        },
        directory="com.ikurento.user.UserProvider",
    ),
    Case(
        "dubbo-go-unbracketed-ipv6",
        go(
            "dubbo://fd00:12::7:20000/com.acme.Echo?"
            + go_values(interface="com.acme.Echo", methods="Echo", side="provider")
        ),
        {"host": "fd00:12::7", "port": 20000, "endpoint_address": "fd00:12::7", "routable": True},
    ),
    Case(
        "dubbo-go-consumer",
        go(
            "consumer://10.0.3.9/com.ikurento.user.UserProvider?"
            + go_values(
                category="consumers",
                dubbo="dubbogo-consumer-1.5.0",
                interface="com.ikurento.user.UserProvider",
                protocol="dubbo",
                release="dubbo-golang-1.5.0",
                side="consumer",
                timestamp="1593506400",
            )
        ),
        {"protocol": "consumer", "category": "consumers", "params": {"protocol": "dubbo"}},
    ),
    # ------------------------------------------------------------- overrides
    Case(
        "override-disable-provider",
        java(
            "override://10.20.153.10:20880/com.acme.order.OrderService?category=configurators"
            "&disabled=true&dynamic=false&enabled=true"
        ),
        {"protocol": "override", "category": "configurators", "host": "10.20.153.10"},
        props={"disabled": True, "enabled": True},
    ),
    Case(
        "override-weight",
        java(
            "override://10.20.153.10:20880/com.acme.order.OrderService?category=configurators"
            "&dynamic=false&enabled=true&weight=200"
        ),
        {"port": 20880},
        props={"weight": 200, "disabled": False},
    ),
    Case(
        "override-global-anyhost",
        java(
            "override://0.0.0.0/com.acme.order.OrderService?category=configurators&dynamic=false"
            "&enabled=true&timeout=1000"
        ),
        {"host": "0.0.0.0", "port": 0, "routable": False, "params": {"timeout": "1000"}},
    ),
    Case(
        "override-group-version-app",
        java(
            "override://0.0.0.0/com.acme.user.UserService?application=user-center"
            "&category=configurators&dynamic=false&enabled=true&group=gold&version=1.2.0&weight=50"
        ),
        {"service_key": "gold/com.acme.user.UserService:1.2.0"},
        props={"weight": 50, "application": "user-center"},
    ),
    Case(
        "override-compatible-config",
        java(
            "override://10.20.153.10:20880/com.acme.order.OrderService?category=configurators"
            "&compatible_config=true&dynamic=false&enabled=true&timeout=3000"
        ),
        {"params": {"compatible_config": "true"}},
    ),
    Case(
        "override-rule-turned-off",
        java(
            "override://10.20.153.11:20880/com.acme.order.OrderService?category=configurators"
            "&disabled=true&dynamic=false&enabled=false"
        ),
        {},
        props={"enabled": False, "disabled": True},
    ),
    Case(
        "override-consumer-mock",
        java(
            "override://10.20.153.99/com.acme.order.OrderService?category=configurators"
            "&dynamic=false&enabled=true&mock=force%3Areturn+null"
        ),
        {"port": 0, "params": {"mock": "force:return null"}},
    ),
    Case(
        "absent-configurator",
        java(
            "absent://0.0.0.0/com.acme.order.OrderService?category=configurators&dynamic=false"
            "&timeout=2000"
        ),
        {"protocol": "absent"},
    ),
    Case(
        "empty-configurators-marker",
        java("empty://10.20.153.10/com.acme.order.OrderService?category=configurators"),
        {"protocol": "empty", "category": "configurators"},
    ),
    # ------------------------------------------------------------- routers
    Case(
        "condition-router",
        java(
            "condition://0.0.0.0/com.acme.order.OrderService?category=routers&dynamic=false"
            "&enabled=true&force=false&name=gray&priority=0&router=condition&rule="
            + java("host = 10.20.153.10 => host = 10.20.153.11")
            + "&runtime=false"
        ),
        {
            "category": "routers",
            "params": {"rule": "host = 10.20.153.10 => host = 10.20.153.11", "name": "gray"},
        },
    ),
    Case(
        "route-2.6-method-rule",
        java(
            "route://0.0.0.0/com.acme.order.OrderService?category=routers&dynamic=false"
            "&name=method-route&rule=" + java("method = find*,list* => host = 10.0.0.7")
        ),
        {"protocol": "route", "params": {"rule": "method = find*,list* => host = 10.0.0.7"}},
    ),
    Case(
        "script-router-semicolons-inside-rule",
        java(
            "script://0.0.0.0/com.acme.order.OrderService?category=routers&dynamic=false"
            f"&rule={java(_SCRIPT)}&type=javascript"
        ),
        {"protocol": "script", "params": {"rule": _SCRIPT, "type": "javascript"}},
    ),
    # ------------------------------------------------------------- odd encodings and grammar
    Case(
        "semicolon-separators",
        java("dubbo://10.0.0.31:20880/com.acme.Foo?interface=com.acme.Foo;version=1.0;group=g1"),
        {"group": "g1", "version": "1.0", "service_key": "g1/com.acme.Foo:1.0"},
    ),
    Case(
        "bare-key-means-key",
        java("dubbo://10.0.0.32:20880/com.acme.Foo?anyhost&interface=com.acme.Foo"),
        {"params": {"anyhost": "anyhost"}},
    ),
    Case(
        "empty-value",
        java("dubbo://10.0.0.33:20880/com.acme.Foo?interface=com.acme.Foo&release="),
        {"params": {"release": ""}},
    ),
    Case(
        "duplicate-key-last-wins",
        java("dubbo://10.0.0.34:20880/com.acme.Foo?version=1.0&interface=com.acme.Foo&version=2.0"),
        {"version": "2.0"},
    ),
    Case(
        "value-containing-equals",
        java("dubbo://10.0.0.35:20880/com.acme.Foo?interface=com.acme.Foo&labels=zone=cn-east"),
        {"params": {"labels": "zone=cn-east"}},
    ),
    Case(
        "userinfo-split-at-last-at",
        java("dubbo://admin:p@ss@10.0.0.36:20880/com.acme.Foo?interface=com.acme.Foo"),
        {"host": "10.0.0.36", "port": 20880},
        props={"username": "admin", "password": "p@ss"},
    ),
    Case(
        "userinfo-user-only",
        java("dubbo://deploy@10.0.0.37:20880/com.acme.Foo?interface=com.acme.Foo"),
        {"host": "10.0.0.37"},
        props={"username": "deploy", "password": ""},
    ),
    Case(
        "lowercase-escapes-hand-written",
        "dubbo%3a%2f%2f10.0.0.38%3a20880%2fcom.acme.Foo%3finterface%3dcom.acme.Foo%26side%3dprovider",
        {"host": "10.0.0.38", "port": 20880, "interface": "com.acme.Foo", "side": "provider"},
        warnings=("lowercase-escape",),
    ),
    Case(
        "mixed-case-escapes",
        "dubbo%3A%2F%2F10.0.0.39%3A20880%2Fcom.acme.Foo%3Finterface%3dcom.acme.Foo%26methods%3Da%2cb",
        {"params": {"interface": "com.acme.Foo", "methods": "a,b"}},
        warnings=("lowercase-escape",),
    ),
    Case(
        "malformed-escape",
        "dubbo%3A%2F%2F10.0.0.40%3A20880%2Fcom.acme.Foo%3Fk%3D%9%d",
        {"protocol": None, "routable": False},
        error="malformed escape",
    ),
    Case(
        "truncated-escape",
        "dubbo%3A%2F%2F10.0.0.41%3A20880%2Fcom.acme.Foo%3Fk%3Dv%3",
        error="malformed escape",
    ),
    Case(
        "invalid-utf8-bytes",
        "dubbo%3A%2F%2F10.0.0.42%3A20880%2Fcom.acme.Foo%3Fapplication%3Dbad%FF%FEname"
        "%26interface%3Dcom.acme.Foo",
        {"params": {"application": "bad\ufffd\ufffdname"}},
        warnings=("invalid-utf8",),
    ),
    Case(
        "utf8-chinese-application",
        java(
            "dubbo://10.0.0.43:20880/com.acme.Foo?application=订单中心&interface=com.acme.Foo"
            "&owner=张三&side=provider"
        ),
        {"params": {"application": "订单中心", "owner": "张三"}},
    ),
    Case(
        "plus-is-space",
        java("dubbo://10.0.0.44:20880/com.acme.Foo?description=order service v2&" + _FOO),
        {"params": {"description": "order service v2"}},
    ),
    Case(
        "encoded-plus-is-plus",
        java("dubbo://10.0.0.45:20880/com.acme.Foo?token=a+b&" + _FOO),
        {"params": {"token": "a+b"}},
    ),
    # ------------------------------------------------------------- unroutable hosts
    Case(
        "host-anyhost-0.0.0.0",
        java("dubbo://0.0.0.0:20880/com.acme.Foo?anyhost=true&" + _FOO),
        {"routable": False, "endpoint_address": "0.0.0.0"},
        warnings=("unroutable-host",),
        props={"is_loopback": False},
    ),
    Case(
        "host-localhost",
        java("dubbo://localhost:20880/com.acme.Foo?" + _FOO),
        {"routable": False},
        warnings=("loopback-host",),
        props={"is_loopback": True},
    ),
    Case(
        "host-127.0.1.1-debian-hostname",
        java("dubbo://127.0.1.1:20880/com.acme.Foo?" + _FOO),
        {"routable": False},
        warnings=("loopback-host",),
        props={"is_loopback": True},
    ),
    Case(
        "port-zero",
        java("dubbo://10.0.0.46/com.acme.Foo?" + _FOO),
        {"port": 0, "routable": False},
        warnings=("unroutable-host",),
    ),
    Case(
        "empty-host",
        java("dubbo://:20880/com.acme.Foo?" + _FOO),
        {"host": "", "port": 20880, "routable": False},
        warnings=("unroutable-host",),
    ),
    Case(
        "ipv6-loopback",
        java("tri://[::1]:50051/com.acme.Foo?" + _FOO),
        {"endpoint_address": "::1", "routable": False},
        warnings=("loopback-host",),
        props={"is_loopback": True},
    ),
    Case(
        "ipv6-unspecified",
        java("dubbo://[::]:20880/com.acme.Foo?" + _FOO),
        {"routable": False},
        warnings=("unroutable-host",),
    ),
    # ------------------------------------------------------------- directories, paths, inputs
    Case(
        "interface-mismatch",
        java("dubbo://10.0.0.47:20880/com.acme.NewName?interface=com.acme.NewName&side=provider"),
        {"interface": "com.acme.NewName"},
        warnings=("interface-mismatch",),
        directory="com.acme.OldName",
    ),
    Case(
        "inner-class-directory",
        java(
            "dubbo://10.0.0.48:20880/com.acme.Outer$Inner?interface=com.acme.Outer$Inner"
            "&side=provider"
        ),
        {"interface": "com.acme.Outer$Inner"},
        directory="com.acme.Outer%24Inner",
    ),
    Case(
        "full-znode-path",
        "/dubbo/com.acme.Foo/providers/" + java("dubbo://10.0.0.49:20880/com.acme.Foo?" + _FOO),
        {"host": "10.0.0.49", "interface": "com.acme.Foo", "routable": True},
    ),
    Case(
        "custom-root-znode-path",
        "/prod/dubbo/com.acme.Foo/providers/" + java("tri://10.0.0.50:50051/com.acme.Foo?" + _FOO),
        {"protocol": "tri", "host": "10.0.0.50"},
    ),
    Case(
        "znode-path-directory-mismatch",
        "/dubbo/com.acme.Other/providers/" + java("dubbo://10.0.0.51:20880/com.acme.Foo?" + _FOO),
        {"interface": "com.acme.Foo"},
        warnings=("interface-mismatch",),
    ),
    Case(
        "znode-path-category-mismatch",
        "/dubbo/com.acme.Foo/configurators/" + java("dubbo://10.0.0.52:20880/com.acme.Foo?" + _FOO),
        {"category": "providers"},
        warnings=("category-mismatch",),
    ),
    Case(
        "plain-url",
        "dubbo://10.0.0.53:20880/com.acme.Foo?interface=com.acme.Foo&methods=a,b&side=provider",
        {"host": "10.0.0.53", "params": {"methods": "a,b"}},
    ),
    Case(
        "plain-consumer-url-refer-decoded-once",
        "consumer://10.0.0.54/com.acme.Foo?category=consumers"
        "&refer=application%3Dweb%26interface%3Dcom.acme.Foo&side=consumer",
        {"params": {"refer": "application=web&interface=com.acme.Foo"}},
    ),
    Case(
        "node-without-protocol",
        "10.0.0.55%3A20880%2Fcom.acme.Foo%3Finterface%3Dcom.acme.Foo",
        error="no 'protocol://'",
    ),
    Case(
        "protocol-separator-at-start",
        "%3A%2F%2F10.0.0.56%3A20880%2Fcom.acme.Foo%3Finterface%3Dcom.acme.Foo",
        error="missing protocol",
    ),
    Case(
        "invalid-port",
        java("dubbo://10.0.0.57:20a80/com.acme.Foo?" + _FOO),
        error="invalid port",
    ),
    Case(
        "unknown-protocol-injvm",
        java("injvm://127.0.0.1/com.acme.Foo?" + _FOO),
        {"protocol": "injvm"},
        warnings=("unknown-protocol",),
    ),
    Case(
        "double-slash-path",
        java("dubbo://10.0.0.58:20880//com.acme.Foo?" + _FOO),
        {"path": "com.acme.Foo"},
    ),
    Case(
        "weight-and-tag",
        java(
            "dubbo://10.0.0.59:20880/com.acme.Foo?dubbo.tag=gray&interface=com.acme.Foo"
            "&warmup=120000&weight=300"
        ),
        {"params": {"dubbo.tag": "gray"}},
        props={"weight": 300},
    ),
    Case(
        "weight-not-a-number",
        java("dubbo://10.0.0.60:20880/com.acme.Foo?interface=com.acme.Foo&weight=heavy"),
        props={"weight": 100},
    ),
    Case(
        "not-a-node-path",
        "/dubbo/com.acme.Foo",
        error="not a registry node path",
    ),
)
