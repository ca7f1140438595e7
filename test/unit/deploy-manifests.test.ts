import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { parseArgv } from '../../src/config/resolve.ts';

const manifest = readFileSync(
  new URL('../../docs/deploy/kubernetes/deployment.yaml', import.meta.url),
  'utf8',
);

test('the Kubernetes manifest is valid YAML and consistent with the server flags it runs', () => {
  const docs = parseAllDocuments(manifest);
  for (const d of docs) assert.deepEqual(d.errors, []);
  const [deployment, service] = docs.map((d) => d.toJS());
  assert.equal(deployment.kind, 'Deployment');
  assert.equal(service.kind, 'Service');
  const pod = deployment.spec.template.spec;
  const [container] = pod.containers;
  // The container's args are a real tsunicorn command line.
  const { layer } = parseArgv(container.args.slice(1));
  assert.equal(
    pod.terminationGracePeriodSeconds >= Number(layer.drainDelay) + Number(layer.gracefulTimeout) + 5,
    true,
  );
  assert.equal(container.readinessProbe.httpGet.path, layer.healthPath);
  assert.equal(container.livenessProbe.httpGet.path, layer.livenessPath);
  assert.equal(container.ports[0].containerPort, Number(String(layer.bind).split(':').at(-1)));
  assert.equal(service.spec.ports[0].targetPort, container.ports[0].name);
});

test('the Dockerfile runs the bin directly, so node is PID 1 and gets SIGTERM', () => {
  const dockerfile = readFileSync(new URL('../../docs/deploy/docker/Dockerfile', import.meta.url), 'utf8');
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!);
  assert.equal(cmd[0], 'node_modules/.bin/tsunicorn');
  assert.ok(parseArgv(cmd.slice(1)).layer.healthPath);
});
