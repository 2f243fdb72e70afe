{{- define "bulkhead.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "bulkhead.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "bulkhead.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "bulkhead.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "bulkhead.labels" -}}
app.kubernetes.io/name: {{ include "bulkhead.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "bulkhead.selector" -}}
app.kubernetes.io/name: {{ include "bulkhead.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "bulkhead.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "bulkhead.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "bulkhead.image" -}}
{{ printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end -}}

{{/* A secret-backed variable: only a reference ever appears in the rendered objects. */}}
{{- define "bulkhead.secretEnv" -}}
{{- if .ref.existingSecret }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .ref.existingSecret }}
      key: {{ .ref.key }}
{{- end }}
{{- end -}}

{{- define "bulkhead.plainEnv" -}}
{{- if .value }}
- name: {{ .name }}
  value: {{ .value | quote }}
{{- end }}
{{- end -}}

{{/* The container securityContext: no privilege, nothing writable but the mounted volumes. */}}
{{- define "bulkhead.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- if .Values.runAsUser }}
runAsUser: {{ .Values.runAsUser }}
{{- end }}
{{- end -}}

{{/* Settings every Bulkhead process needs: Temporal, sandbox driver, brain, model, sources. */}}
{{- define "bulkhead.env" -}}
- name: TEMPORAL_ADDRESS
  value: {{ required "temporal.address is required" .Values.temporal.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ .Values.temporal.namespace | quote }}
- name: BULKHEAD_TASK_QUEUE
  value: {{ .Values.temporal.taskQueue | quote }}
{{- if or .Values.temporal.tls.enabled .Values.temporal.apiKey.existingSecret .Values.temporal.tls.existingSecret }}
- name: TEMPORAL_TLS
  value: "true"
{{- end }}
{{- if .Values.temporal.tls.existingSecret }}
- name: TEMPORAL_TLS_CERT
  value: /etc/bulkhead/temporal-tls/tls.crt
- name: TEMPORAL_TLS_KEY
  value: /etc/bulkhead/temporal-tls/tls.key
- name: TEMPORAL_TLS_CA
  value: /etc/bulkhead/temporal-tls/ca.crt
{{- end }}
{{- include "bulkhead.plainEnv" (dict "name" "TEMPORAL_TLS_SERVER_NAME" "value" .Values.temporal.tls.serverName) }}
{{- include "bulkhead.secretEnv" (dict "name" "TEMPORAL_API_KEY" "ref" .Values.temporal.apiKey) }}
- name: BULKHEAD_SANDBOX
  value: openshell
{{- include "bulkhead.plainEnv" (dict "name" "OPENSHELL_GATEWAY" "value" .Values.openshell.gateway) }}
{{- include "bulkhead.plainEnv" (dict "name" "OPENSHELL_GATEWAY_ENDPOINT" "value" .Values.openshell.gatewayEndpoint) }}
{{- include "bulkhead.plainEnv" (dict "name" "BULKHEAD_OPENSHELL_IMAGE" "value" .Values.openshell.sandboxImage) }}
{{- include "bulkhead.plainEnv" (dict "name" "BULKHEAD_OPENSHELL_LANDLOCK" "value" .Values.openshell.landlock) }}
{{- include "bulkhead.plainEnv" (dict "name" "BULKHEAD_OPENSHELL_IMAGE_PATHS" "value" (join "," .Values.openshell.imagePaths)) }}
- name: BULKHEAD_SANDBOX_ROOT
  value: /var/lib/bulkhead/sandboxes
- name: BULKHEAD_STATE_DIR
  value: /var/lib/bulkhead/state
- name: HOME
  value: /var/lib/bulkhead/home
{{- include "bulkhead.secretEnv" (dict "name" "ANTHROPIC_API_KEY" "ref" .Values.brain.anthropic) }}
{{- include "bulkhead.plainEnv" (dict "name" "ANTHROPIC_BASE_URL" "value" .Values.brain.anthropic.baseUrl) }}
{{- include "bulkhead.plainEnv" (dict "name" "BULKHEAD_BRAIN_MODEL" "value" .Values.brain.model) }}
{{- include "bulkhead.plainEnv" (dict "name" "BULKHEAD_BRAIN_URL" "value" .Values.brain.url) }}
{{- include "bulkhead.secretEnv" (dict "name" "BULKHEAD_BRAIN_API_KEY" "ref" .Values.brain.apiKey) }}
{{- include "bulkhead.plainEnv" (dict "name" "BULKHEAD_MODEL_URL" "value" .Values.model.url) }}
{{- include "bulkhead.plainEnv" (dict "name" "BULKHEAD_MODEL" "value" .Values.model.name) }}
{{- include "bulkhead.secretEnv" (dict "name" "BULKHEAD_MODEL_API_KEY" "ref" .Values.model.apiKey) }}
{{- include "bulkhead.plainEnv" (dict "name" "PROMETHEUS_URL" "value" .Values.sources.prometheusUrl) }}
{{- include "bulkhead.plainEnv" (dict "name" "LOKI_URL" "value" .Values.sources.lokiUrl) }}
{{- if .Values.liveConfig }}
- name: BULKHEAD_CONFIG
  value: /etc/bulkhead/config/bulkhead.yaml
{{- end }}
{{- end -}}

{{/* Writable places on a read-only root: scratch, state, home, and the secret mounts. */}}
{{- define "bulkhead.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: state
  mountPath: /var/lib/bulkhead
- name: policies
  mountPath: /app/deploy/policies
  readOnly: true
{{- if .Values.liveConfig }}
- name: config
  mountPath: /etc/bulkhead/config
  readOnly: true
{{- end }}
{{- if .Values.temporal.tls.existingSecret }}
- name: temporal-tls
  mountPath: /etc/bulkhead/temporal-tls
  readOnly: true
{{- end }}
{{- if .Values.openshell.configSecret }}
- name: openshell-config
  mountPath: /var/lib/bulkhead/home/.config/openshell
  readOnly: true
{{- end }}
{{- end -}}

{{- define "bulkhead.volumes" -}}
- name: tmp
  emptyDir: {}
- name: state
  emptyDir: {}
- name: policies
  configMap:
    name: {{ include "bulkhead.fullname" . }}-policies
{{- if .Values.liveConfig }}
- name: config
  configMap:
    name: {{ include "bulkhead.fullname" . }}-config
{{- end }}
{{- if .Values.temporal.tls.existingSecret }}
- name: temporal-tls
  secret:
    secretName: {{ .Values.temporal.tls.existingSecret }}
    optional: false
{{- end }}
{{- if .Values.openshell.configSecret }}
- name: openshell-config
  secret:
    secretName: {{ .Values.openshell.configSecret }}
{{- end }}
{{- end -}}
