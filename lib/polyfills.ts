/**
 * `Promise.withResolvers` for Node 20. aws-local-stepfunctions (the local workflow runner) calls
 * it; without it every Task fails and a rejected handler kills the process. Lambda's nodejs22.x
 * has it natively, so this is only loaded by the CLI and the tests.
 */
type WithResolvers = <T>() => {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
};

if (typeof Reflect.get(Promise, 'withResolvers') !== 'function') {
  const withResolvers: WithResolvers = <T>() => {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
  Object.defineProperty(Promise, 'withResolvers', { configurable: true, writable: true, value: withResolvers });
}
