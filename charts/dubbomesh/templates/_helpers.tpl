{{- /*
Named templates of the dubbomesh chart. Names, labels and the agent's YAML config are computed here
once, so the Deployment, the DaemonSet and the sidecar helper run exactly the same container.

The public helpers for OTHER charts (an application that runs the agent as a sidecar) are at the
end: dubbomesh.sidecarContainer, dubbomesh.sidecarVolumes, dubbomesh.sidecarAppVolumeMount. They
take the dubbomesh subchart's own context: `include "dubbomesh.sidecarContainer" .Subcharts.dubbomesh`
(docs/helm.md has the whole recipe; charts/dubbomesh/examples/sidecar-app is a working example).
*/ -}}

{{- define "dubbomesh.name" -}}
{{- default "dubbomesh" .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dubbomesh.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "dubbomesh.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- /* The Role's name as templates/role.yaml writes it; the RoleBinding refers to it. */ -}}
{{- define "dubbomesh.roleName" -}}
{{- printf "%s-dubbomesh" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dubbomesh.configMapName" -}}
{{- printf "%s-config" (include "dubbomesh.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dubbomesh.serviceAccountName" -}}
{{- if and .Values.serviceAccount.create (ne .Values.mode "sidecar") -}}
{{- default (include "dubbomesh.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "dubbomesh.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dubbomesh.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "dubbomesh.labels" -}}
{{ include "dubbomesh.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: {{ .Values.mode }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{- define "dubbomesh.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- /* HOST:PORT on the pod's listen address (IPv6 literals in brackets). */ -}}
{{- define "dubbomesh.hostport" -}}
{{- $host := index . 0 -}}
{{- if contains ":" $host -}}{{- $host = printf "[%s]" $host -}}{{- end -}}
{{- printf "%s:%v" $host (index . 1) -}}
{{- end -}}

{{- /*
The agent's settings as YAML (keys are option names, see `dubbomesh options`). Secrets are NOT here:
zk-auth comes from env DUBBOMESH_ZK_AUTH (filled from Secrets, see dubbomesh.env).
*/ -}}
{{- define "dubbomesh.agentConfig" -}}
{{- $v := .Values -}}
{{- $zk := list -}}
{{- range $v.zookeeper.registries -}}
{{- $zk = append $zk (printf "%s=%s" .name .hosts) -}}
{{- end -}}
{{- $sinks := list -}}
{{- if $v.sinks.kubernetes.enabled -}}{{- $sinks = append $sinks "kubernetes" -}}{{- end -}}
{{- if $v.sinks.file.enabled -}}{{- $sinks = append $sinks "file" -}}{{- end -}}
{{- $xdsHost := $v.listenAddress -}}
{{- if eq $v.mode "sidecar" -}}{{- $xdsHost = "127.0.0.1" -}}{{- end -}}
{{- $c := dict
  "zk" $zk
  "root" $v.zookeeper.roots
  "services-root" $v.zookeeper.servicesRoot
  "app-discovery" $v.zookeeper.appDiscovery
  "zk-session-timeout" $v.zookeeper.sessionTimeout
  "resync-interval" $v.zookeeper.resyncInterval
  "owner" $v.mesh.owner
  "endpoint-mode" $v.mesh.endpointMode
  "address-strategy" $v.mesh.addressStrategy
  "registry-suffix" $v.mesh.registrySuffix
  "aeraki" $v.mesh.aeraki
  "allow-loopback-endpoints" $v.mesh.allowLoopbackEndpoints
  "debounce" $v.mesh.debounce
  "debounce-max" $v.mesh.debounceMax
  "sink" $sinks
  "xds-listen" (list (include "dubbomesh.hostport" (list $xdsHost $v.xds.port)))
  "xds-max-streams" $v.xds.maxStreams
  "leader-elect" $v.kubernetes.leaderElect
  "lease-name" $v.leaseName
  "lease-duration" $v.kubernetes.leaseDuration
  "delete-grace" $v.kubernetes.deleteGrace
  "kube-qps" $v.kubernetes.qps
  "kube-burst" $v.kubernetes.burst
  "pod-lookup" $v.podLookup
  "http-listen" (include "dubbomesh.hostport" (list $v.listenAddress $v.http.port))
  "log-level" $v.logLevel
  "log-format" $v.logFormat
  "shutdown-timeout" $v.shutdownTimeout
-}}
{{- /* Optional settings only when given, so the agent's documented defaults apply otherwise. */ -}}
{{- with $v.mesh.hostTemplate -}}{{- $_ := set $c "host-template" . -}}{{- end -}}
{{- with $v.mesh.workloadHostTemplate -}}{{- $_ := set $c "workload-host-template" . -}}{{- end -}}
{{- with $v.mesh.exportTo -}}{{- $_ := set $c "export-to" . -}}{{- end -}}
{{- with $v.zookeeper.filters -}}
{{- with .includeInterfaces -}}{{- $_ := set $c "include-interface" . -}}{{- end -}}
{{- with .excludeInterfaces -}}{{- $_ := set $c "exclude-interface" . -}}{{- end -}}
{{- with .includeApplications -}}{{- $_ := set $c "include-application" . -}}{{- end -}}
{{- with .excludeApplications -}}{{- $_ := set $c "exclude-application" . -}}{{- end -}}
{{- end -}}
{{- $ports := list -}}
{{- range $proto, $port := $v.mesh.ports -}}
{{- $ports = append $ports (printf "%s=%v" $proto $port) -}}
{{- end -}}
{{- with $ports -}}{{- $_ := set $c "port" . -}}{{- end -}}
{{- $labels := list -}}
{{- range $param, $key := $v.mesh.labelParams -}}
{{- $labels = append $labels (printf "%s=%s" $param $key) -}}
{{- end -}}
{{- with $labels -}}{{- $_ := set $c "label-param" . -}}{{- end -}}
{{- if $v.sinks.file.enabled -}}{{- $_ := set $c "output-dir" $v.sinks.file.dir -}}{{- end -}}
{{- if $v.stateFile.enabled -}}
{{- $_ := set $c "state-file" "/var/lib/dubbomesh/state.msgpack" -}}
{{- end -}}
{{- if eq $v.mode "sidecar" -}}{{- $_ := set $c "xds-uds" $v.xds.uds -}}{{- end -}}
{{- if $v.zookeeper.tls.enabled -}}
{{- $_ := set $c "zk-tls-ca" "/etc/dubbomesh/zk-tls/ca.crt" -}}
{{- if $v.zookeeper.tls.mutual -}}
{{- $_ := set $c "zk-tls-cert" "/etc/dubbomesh/zk-tls/tls.crt" -}}
{{- $_ := set $c "zk-tls-key" "/etc/dubbomesh/zk-tls/tls.key" -}}
{{- end -}}
{{- end -}}
{{- if $v.xds.tls.enabled -}}
{{- $_ := set $c "xds-tls-cert" "/etc/dubbomesh/xds-tls/tls.crt" -}}
{{- $_ := set $c "xds-tls-key" "/etc/dubbomesh/xds-tls/tls.key" -}}
{{- if $v.xds.tls.clientAuth -}}
{{- $_ := set $c "xds-tls-client-ca" "/etc/dubbomesh/xds-tls/ca.crt" -}}
{{- end -}}
{{- end -}}
{{- range $key, $value := $v.config -}}
{{- $_ := set $c $key $value -}}
{{- end -}}
{{- toYaml $c -}}
{{- end -}}

{{- /* Env vars: the pod's identity (downward API) and the secrets (Secrets, never values). */ -}}
{{- define "dubbomesh.env" -}}
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: DUBBOMESH_CONFIG
  value: /etc/dubbomesh/config.yaml
{{- $auth := list -}}
{{- range $i, $r := .Values.zookeeper.registries }}
{{- $secret := $r.auth | default dict }}
{{- if $secret.existingSecret }}
- name: {{ printf "ZK_AUTH_%d" $i }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret.existingSecret }}
      key: {{ $secret.key | default "zk-auth" }}
{{- $auth = append $auth (printf "%s=$(ZK_AUTH_%d)" $r.name $i) -}}
{{- end }}
{{- end }}
{{- if $auth }}
{{- /* Kubernetes expands $(ZK_AUTH_n) from the env vars above; the agent splits on commas. */}}
- name: DUBBOMESH_ZK_AUTH
  value: {{ join "," $auth | quote }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "dubbomesh.volumeMounts" -}}
- name: config
  mountPath: /etc/dubbomesh/config.yaml
  subPath: config.yaml
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- if .Values.stateFile.enabled }}
- name: state
  mountPath: /var/lib/dubbomesh
{{- end }}
{{- if .Values.sinks.file.enabled }}
- name: manifests
  mountPath: {{ .Values.sinks.file.dir }}
{{- end }}
{{- if eq .Values.mode "sidecar" }}
- name: {{ .Values.sidecar.socketVolume }}
  mountPath: {{ dir .Values.xds.uds }}
{{- end }}
{{- if .Values.zookeeper.tls.enabled }}
- name: zk-tls
  mountPath: /etc/dubbomesh/zk-tls
  readOnly: true
{{- end }}
{{- if .Values.xds.tls.enabled }}
- name: xds-tls
  mountPath: /etc/dubbomesh/xds-tls
  readOnly: true
{{- end }}
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "dubbomesh.volumes" -}}
- name: config
  configMap:
    name: {{ include "dubbomesh.configMapName" . }}
- name: tmp
  emptyDir:
    medium: Memory
    sizeLimit: 16Mi
{{- if .Values.stateFile.enabled }}
- name: state
{{- if and .Values.stateFile.hostPath (eq .Values.mode "daemonset") }}
  hostPath:
    path: {{ .Values.stateFile.hostPath }}
    type: Directory
{{- else }}
  emptyDir:
    sizeLimit: 256Mi
{{- end }}
{{- end }}
{{- if .Values.sinks.file.enabled }}
- name: manifests
  emptyDir:
    sizeLimit: 256Mi
{{- end }}
{{- if eq .Values.mode "sidecar" }}
- name: {{ .Values.sidecar.socketVolume }}
  emptyDir:
    medium: Memory
    sizeLimit: 1Mi
{{- end }}
{{- if .Values.zookeeper.tls.enabled }}
- name: zk-tls
  secret:
    secretName: {{ required "zookeeper.tls.existingSecret is required when zookeeper.tls.enabled" .Values.zookeeper.tls.existingSecret }}
{{- end }}
{{- if .Values.xds.tls.enabled }}
- name: xds-tls
  secret:
    secretName: {{ required "xds.tls.existingSecret is required when xds.tls.enabled" .Values.xds.tls.existingSecret }}
{{- end }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- /*
The HTTP port's name. Port names must be unique in a pod, and a sidecar shares its pod with an
application that may well call its own port http-metrics.
*/ -}}
{{- define "dubbomesh.httpPortName" -}}
{{- if eq .Values.mode "sidecar" -}}dubbomesh-http{{- else -}}http-metrics{{- end -}}
{{- end -}}

{{- /* The agent container, identical in every mode. */ -}}
{{- define "dubbomesh.container" -}}
- name: dubbomesh
  image: {{ include "dubbomesh.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args: [run, --config, /etc/dubbomesh/config.yaml]
  {{- if and (eq .Values.mode "sidecar") .Values.sidecar.native }}
  restartPolicy: Always
  {{- end }}
  env:
    {{- include "dubbomesh.env" . | nindent 4 }}
  ports:
    - name: {{ include "dubbomesh.httpPortName" . }}
      containerPort: {{ .Values.http.port }}
      protocol: TCP
    {{- if ne .Values.mode "sidecar" }}
    - name: grpc-xds
      containerPort: {{ .Values.xds.port }}
      protocol: TCP
      {{- if and (eq .Values.mode "daemonset") (or .Values.xds.hostPort .Values.hostNetwork) }}
      hostPort: {{ .Values.xds.port }}
      {{- end }}
    {{- end }}
  livenessProbe:
    httpGet:
      path: /healthz
      port: {{ include "dubbomesh.httpPortName" . }}
    {{- toYaml .Values.probes.liveness | nindent 4 }}
  readinessProbe:
    httpGet:
      path: /readyz
      port: {{ include "dubbomesh.httpPortName" . }}
    {{- toYaml .Values.probes.readiness | nindent 4 }}
  resources:
    {{- toYaml .Values.resources | nindent 4 }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  volumeMounts:
    {{- include "dubbomesh.volumeMounts" . | nindent 4 }}
{{- end -}}

{{- define "dubbomesh.podMetadata" -}}
labels:
  {{- include "dubbomesh.selectorLabels" . | nindent 2 }}
  {{- with .Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
annotations:
  checksum/config: {{ include "dubbomesh.agentConfig" . | sha256sum }}
  {{- with .Values.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{- /* Pod spec of the Deployment and the DaemonSet. */ -}}
{{- define "dubbomesh.podSpec" -}}
serviceAccountName: {{ include "dubbomesh.serviceAccountName" . }}
automountServiceAccountToken: {{ or .Values.sinks.kubernetes.enabled .Values.podLookup }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if and (eq .Values.mode "daemonset") .Values.hostNetwork }}
hostNetwork: true
dnsPolicy: ClusterFirstWithHostNet
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
containers:
  {{- include "dubbomesh.container" . | nindent 2 }}
volumes:
  {{- include "dubbomesh.volumes" . | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- /* The configSources entries istiod needs (meshConfig), as YAML. */ -}}
{{- define "dubbomesh.istioMeshSnippet" -}}
{{- $scheme := "xds" -}}
configSources:
  - address: {{ printf "xds://%s.%s.svc:%v" (include "dubbomesh.fullname" .) .Release.Namespace .Values.xds.port }}
    {{- if .Values.xds.tls.enabled }}
    tlsSettings:
      mode: SIMPLE
      caCertificates: {{ .Values.istio.caCertificates }}
    {{- end }}
  {{- if .Values.istio.keepKubernetesSource }}
  - address: k8s://
  {{- end }}
{{- end -}}

{{- /* ==== Public helpers for an application chart that runs the agent as a sidecar ==== */ -}}

{{- /*
dubbomesh.sidecarContainer: the agent container for an application's pod `containers` list (or
`initContainers` when sidecar.native=true). Context: the dubbomesh subchart's context with
mode=sidecar, i.e. `include "dubbomesh.sidecarContainer" .Subcharts.dubbomesh | nindent 8`.
*/ -}}
{{- define "dubbomesh.sidecarContainer" -}}
{{- if ne .Values.mode "sidecar" -}}
{{- fail "dubbomesh.sidecarContainer needs the dubbomesh values mode: sidecar" -}}
{{- end -}}
{{- include "dubbomesh.container" . -}}
{{- end -}}

{{- /* dubbomesh.sidecarVolumes: the volumes the sidecar container needs, for the pod's `volumes`. */ -}}
{{- define "dubbomesh.sidecarVolumes" -}}
{{- if ne .Values.mode "sidecar" -}}
{{- fail "dubbomesh.sidecarVolumes needs the dubbomesh values mode: sidecar" -}}
{{- end -}}
{{- include "dubbomesh.volumes" . -}}
{{- end -}}

{{- /*
dubbomesh.sidecarAppVolumeMount: a volumeMounts entry for the APPLICATION container, giving it the
agent's xDS unix socket at xds.uds (e.g. /var/run/dubbomesh/xds.sock). Loopback also works:
127.0.0.1:<xds.port>.
*/ -}}
{{- define "dubbomesh.sidecarAppVolumeMount" -}}
- name: {{ .Values.sidecar.socketVolume }}
  mountPath: {{ dir .Values.xds.uds }}
  readOnly: false
{{- end -}}
