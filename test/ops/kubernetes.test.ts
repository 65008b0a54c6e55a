import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { Deployment } from 'kubernetes-models/apps/v1/Deployment'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import { Secret } from 'kubernetes-models/v1/Secret'
import { Service } from 'kubernetes-models/v1/Service'
import type { IContainer } from 'kubernetes-models/v1/Container'
import type { IProbe } from 'kubernetes-models/v1/Probe'
import { ROOT } from '../support/process.js'

const DIR = join(ROOT, 'docker', 'kubernetes')
const MODELS = { Deployment, Service, Secret, PodDisruptionBudget } as const
type Manifest = { kind: string, apiVersion: string, metadata: { name: string } } & Record<string, unknown>

function load (): Array<{ file: string, doc: Manifest }> {
  return readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').flatMap((file) =>
    parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`)
      return { file, doc: d.toJS() as Manifest }
    }))
}

const manifests = load()
const named = <K extends keyof typeof MODELS>(kind: K, name: string): InstanceType<typeof MODELS[K]> => {
  const found = manifests.find((m) => m.doc.kind === kind && m.doc.metadata.name === name)
  if (found === undefined) throw new Error(`no ${kind} ${name}`)
  return new MODELS[kind](found.doc as never) as InstanceType<typeof MODELS[K]>
}
const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean =>
  selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v)

t.test('every manifest is a valid object of its Kubernetes schema', async (t) => {
  t.ok(manifests.length >= 6)
  for (const { file, doc } of manifests) {
    const Model = MODELS[doc.kind as keyof typeof MODELS]
    t.ok(Model !== undefined, `${file}: ${doc.kind} is a kind this test knows`)
    t.doesNotThrow(() => new Model(doc as never).validate(), `${file}: ${doc.kind} ${doc.metadata.name} validates`)
  }
  const kustomization = parseAllDocuments(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8'))[0]?.toJS() as { resources: string[] }
  t.same([...kustomization.resources].sort(), [...new Set(manifests.map((m) => m.file))].sort(), 'kustomization lists every file')
})

t.test('the schema check catches a broken manifest', async (t) => {
  const doc = structuredClone(manifests.find((m) => m.doc.kind === 'Deployment')?.doc) as unknown as { spec: { template: { spec: { containers: Array<{ ports: Array<{ containerPort: unknown }> }> } }, selector?: unknown } }
  ;(doc.spec.template.spec.containers[0] as { ports: Array<{ containerPort: unknown }> }).ports[0] = { containerPort: 'http' }
  t.throws(() => new Deployment(doc as never).validate())
  delete doc.spec.selector
  t.throws(() => new Deployment(doc as never).validate())
})

t.test('the fx-ticker Deployment: probes, resources, Redis from a Secret, non-root, a grace period that covers the shutdown', async (t) => {
  const deployment = named('Deployment', 'fx-ticker')
  const pod = deployment.spec?.template.spec
  const container = pod?.containers[0] as IContainer
  t.ok(matches(deployment.spec?.selector.matchLabels, deployment.spec?.template.metadata?.labels), 'selector matches the pods')
  t.ok((deployment.spec?.replicas ?? 1) >= 2, 'more than one replica')

  const port = container.ports?.find((p) => p.name === 'http')
  const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e]))
  t.equal(String(port?.containerPort), env.PORT?.value, 'the container port is the PORT the service listens on')
  const probe = (p: IProbe | undefined): string => `${p?.httpGet?.path ?? '?'} on ${String(p?.httpGet?.port)}`
  t.equal(probe(container.livenessProbe), '/healthz on http', 'liveness is /healthz')
  t.equal(probe(container.readinessProbe), '/readyz on http', 'readiness is /readyz')
  for (const p of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
    t.ok((p?.timeoutSeconds ?? 1) < (p?.periodSeconds ?? 10), 'a probe times out before the next one')
  }
  // liveness must not give up before a restart is warranted: several missed probes, not one
  t.ok((container.livenessProbe?.failureThreshold ?? 3) >= 3)

  t.match(container.resources?.requests, { cpu: /\d/, memory: /\d/ }, 'cpu and memory requests')
  t.match(container.resources?.limits, { memory: /\d/ }, 'a memory limit')

  const secretRef = env.REDIS_URL?.valueFrom?.secretKeyRef
  t.ok(secretRef !== undefined, 'REDIS_URL comes from a Secret')
  const secret = named('Secret', secretRef?.name ?? '')
  t.ok(secretRef?.key !== undefined && secret.stringData?.[secretRef.key] !== undefined, 'the Secret holds that key')
  const url = new URL(secret.stringData?.[secretRef?.key ?? ''] ?? '')
  const redis = named('Service', url.hostname)
  t.ok(redis.spec?.ports?.some((p) => String(p.port) === url.port), 'the example Redis URL names the Redis Service and its port')
  t.ok(matches(redis.spec?.selector, named('Deployment', url.hostname).spec?.template.metadata?.labels), 'which selects the Redis pods')

  t.equal(pod?.securityContext?.runAsNonRoot, true)
  t.not(pod?.securityContext?.runAsUser, 0)
  t.equal(container.securityContext?.allowPrivilegeEscalation, false)
  t.same(container.securityContext?.capabilities?.drop, ['ALL'])

  const server = readFileSync(join(ROOT, 'src', 'server.ts'), 'utf8')
  const shutdownMs = Number(/closeWithGrace\(\{ delay: ([\d_]+)/.exec(server)?.[1]?.replace(/_/g, ''))
  t.ok(shutdownMs > 0, `the service gives its shutdown ${shutdownMs} ms`)
  const preStop = container.lifecycle?.preStop?.exec?.command ?? []
  const preStopS = preStop[0] === 'sleep' ? Number(preStop[1]) : 0
  const grace = pod?.terminationGracePeriodSeconds ?? 30
  t.ok(grace >= preStopS + shutdownMs / 1000, `grace ${grace} s covers preStop ${preStopS} s + shutdown ${shutdownMs / 1000} s`)
  t.ok(grace <= preStopS + shutdownMs / 1000 + 15, 'and not much more: a stuck pod is killed soon after')
})

t.test('the Service and the PodDisruptionBudget select the fx-ticker pods', async (t) => {
  const labels = named('Deployment', 'fx-ticker').spec?.template.metadata?.labels
  const service = named('Service', 'fx-ticker')
  t.ok(matches(service.spec?.selector, labels))
  t.equal(service.spec?.ports?.[0]?.targetPort, 'http')
  const pdb = named('PodDisruptionBudget', 'fx-ticker')
  t.ok(matches(pdb.spec?.selector?.matchLabels, labels))
  const replicas = named('Deployment', 'fx-ticker').spec?.replicas ?? 1
  const unavailable = pdb.spec?.maxUnavailable ?? (replicas - Number(pdb.spec?.minAvailable ?? 0))
  t.ok(Number(unavailable) >= 1 && Number(unavailable) < replicas, 'drains proceed, one pod at a time')
})

t.test('every container runs as non-root with requests and probes', async (t) => {
  for (const { doc } of manifests.filter((m) => m.doc.kind === 'Deployment')) {
    const d = new Deployment(doc as never)
    const pod = d.spec?.template.spec
    for (const c of pod?.containers ?? []) {
      t.ok(pod?.securityContext?.runAsNonRoot === true || c.securityContext?.runAsNonRoot === true, `${c.name}: non-root`)
      t.ok(c.resources?.requests?.memory !== undefined, `${c.name}: memory request`)
      t.ok(c.readinessProbe !== undefined && c.livenessProbe !== undefined, `${c.name}: probes`)
    }
  }
})
