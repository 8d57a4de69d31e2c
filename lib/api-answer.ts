/** An API answer, before it is wrapped as an API Gateway proxy result. */
export interface ApiAnswer {
  statusCode: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}
