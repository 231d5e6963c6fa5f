/**
 * Calls to moto for services whose SDK client is not a project dependency (IAM, EC2, KMS, SES v1):
 * moto routes on the service named in the credential scope and does not check signatures, so a plain
 * HTTP request with that scope is enough. Local servers only.
 */
const scope = (service: string, region: string) =>
  `AWS4-HMAC-SHA256 Credential=test/20260101/${region}/${service}/aws4_request, SignedHeaders=host, Signature=local`;

/** Query protocol (IAM, EC2, SES v1): returns the XML body, throws with the body on an error status. */
export async function awsQuery(endpoint: string, service: string, params: Record<string, string>, region = 'us-east-1'): Promise<string> {
  const body = new URLSearchParams(params).toString();
  const res = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: { Authorization: scope(service, region), 'Content-Type': 'application/x-www-form-urlencoded' },
    body,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${service} ${params.Action} failed (${res.status}): ${text.slice(0, 500)}`);
  return text;
}

/** JSON 1.1 protocol (KMS): `target` like `TrentService.CreateKey`. */
export async function awsJson<T>(endpoint: string, service: string, target: string, payload: object, region = 'us-east-1'): Promise<T> {
  const res = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: { Authorization: scope(service, region), 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': target },
    body: JSON.stringify(payload),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${target} failed (${res.status}): ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** First `<tag>value</tag>` in an XML response. */
export function xmlValue(xml: string, tag: string): string | undefined {
  return new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];
}

export function xmlValues(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((m) => m[1]);
}
