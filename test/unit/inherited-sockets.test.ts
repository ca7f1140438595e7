import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inheritedSockets, withoutInheritance } from '../../src/sockets/inherited.ts';

test('systemd sockets are adopted only by the process LISTEN_PID names', () => {
  assert.deepEqual(inheritedSockets({ LISTEN_FDS: '2', LISTEN_PID: '42' }, 42), {
    from: 'systemd',
    fds: [3, 4],
  });
  assert.equal(inheritedSockets({ LISTEN_FDS: '2', LISTEN_PID: '41' }, 42), undefined);
  assert.equal(inheritedSockets({ LISTEN_FDS: '0', LISTEN_PID: '42' }, 42), undefined);
});

test('a re-executed master adopts the fds its parent lists in TSUNICORN_FD', () => {
  assert.deepEqual(inheritedSockets({ TSUNICORN_FD: '3,4,5' }, 42), { from: 'upgrade', fds: [3, 4, 5] });
  assert.equal(inheritedSockets({ TSUNICORN_FD: '1,x' }, 42), undefined);
});

test("children never see their parent's descriptor variables", () => {
  const env = { TSUNICORN_FD: '3', LISTEN_FDS: '1', LISTEN_PID: '1', LISTEN_FDNAMES: 'http', HOME: '/root' };
  assert.deepEqual(withoutInheritance(env), { HOME: '/root' });
});
