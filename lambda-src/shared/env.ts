/** Environment reading with errors that name the variable and the rule it broke. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value.trim() === '') {
    throw new Error(`environment variable ${name} is required but not set`);
  }
  return value;
}

export function optionalEnv(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

export function intEnv(name: string, fallback?: number, min = 1): number {
  const raw = optionalEnv(name);
  if (raw === undefined) {
    if (fallback === undefined) throw new Error(`environment variable ${name} is required but not set`);
    return fallback;
  }
  if (!/^[0-9]+$/.test(raw) || Number(raw) < min || !Number.isSafeInteger(Number(raw))) {
    throw new Error(`environment variable ${name} must be an integer >= ${min}, got "${raw}"`);
  }
  return Number(raw);
}

export function jsonEnv<T>(name: string): T {
  const raw = requireEnv(name);
  try {
    return JSON.parse(raw) as T;
  } catch {
    throw new Error(`environment variable ${name} must be valid JSON`);
  }
}
