import { operationId, serializeOpenApi } from './openapi-document';

describe('serializeOpenApi', () => {
  it('should sort keys everywhere but keep the declared order of schema properties', () => {
    const text = serializeOpenApi({
      paths: { '/b': { post: {}, get: {} }, '/a': {} },
      components: {
        schemas: {
          Zed: { type: 'object', properties: { id: { type: 'string' }, at: { type: 'string' } } },
          Abc: { type: 'object' },
        },
      },
      openapi: '3.0.0',
    });
    const parsed = JSON.parse(text);
    expect(Object.keys(parsed)).toEqual(['components', 'openapi', 'paths']);
    expect(Object.keys(parsed.paths)).toEqual(['/a', '/b']);
    expect(Object.keys(parsed.paths['/b'])).toEqual(['get', 'post']);
    expect(Object.keys(parsed.components.schemas)).toEqual(['Abc', 'Zed']);
    expect(Object.keys(parsed.components.schemas.Zed.properties)).toEqual(['id', 'at']);
    expect(text.endsWith('}\n')).toBe(true);
  });

  it('should give the same text for the same document built in another order', () => {
    const a = serializeOpenApi({ x: 1, y: [3, 1, 2], z: { b: 1, a: 2 } });
    const b = serializeOpenApi({ z: { a: 2, b: 1 }, y: [3, 1, 2], x: 1 });
    expect(a).toBe(b);
    // Arrays keep their order: enums and required lists mean something in order.
    expect(JSON.parse(a).y).toEqual([3, 1, 2]);
  });
});

describe('operationId', () => {
  it('should name an operation after its controller without the suffix', () => {
    expect(operationId('AccountGroupsController', 'list')).toBe('AccountGroups_list');
  });
});
