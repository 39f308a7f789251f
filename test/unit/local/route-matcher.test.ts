import { matchRoute } from '../../../local/route-matcher';

describe('matchRoute', () => {
  it('prefers the literal resource /uploads/sign to /uploads/{uploadId}, as API Gateway does', () => {
    expect(matchRoute('POST', '/uploads/sign')).toMatchObject({ route: { operation: 'signS3Request' }, pathParameters: {} });
  });

  it('answers another method on /uploads/sign with the methods of that resource (405), not an upload look-up', () => {
    expect(matchRoute('GET', '/uploads/sign')).toEqual({ allowed: ['POST'] });
  });

  it('still matches an upload id on /uploads/{uploadId}', () => {
    expect(matchRoute('GET', '/uploads/abc.def')).toMatchObject({ route: { operation: 'listParts' }, pathParameters: { uploadId: 'abc.def' } });
  });

  it('finds nothing for a path no resource has', () => {
    expect(matchRoute('GET', '/nowhere')).toBeUndefined();
  });
});
