// Integration specs start real processes and wait on a real broker: generous defaults, hooks included.
jest.setTimeout(120000);
