/**
 * Value kinds of the settings table: each turns a CLI/env string into a value and checks a value that came
 * from a config file. Both throw a plain message that the resolver prefixes with the setting's name.
 */
export interface Kind<T> {
  /** Shown in --help and in type errors, e.g. "integer ≥ 1". */
  readonly describe: string;
  fromString(raw: string): T;
  check(value: unknown): T;
}

export function int(min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Kind<number> {
  const describe =
    min === Number.MIN_SAFE_INTEGER
      ? 'an integer'
      : max === Number.MAX_SAFE_INTEGER
        ? `an integer ≥ ${min}`
        : `an integer from ${min} to ${max}`;
  const check = (value: unknown): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new Error(`expected ${describe}, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  return {
    describe,
    fromString: (raw) => check(/^[+-]?\d+$/.test(raw.trim()) ? Number(raw) : raw),
    check,
  };
}

export function float(min = 0): Kind<number> {
  const describe = `a number ≥ ${min}`;
  const check = (value: unknown): number => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      throw new Error(`expected ${describe}, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  return { describe, fromString: (raw) => check(raw.trim() === '' ? raw : Number(raw)), check };
}

export const string: Kind<string> = {
  describe: 'a string',
  fromString: (raw) => raw,
  check(value) {
    if (typeof value !== 'string') throw new Error(`expected a string, got ${JSON.stringify(value)}`);
    return value;
  },
};

export const bool: Kind<boolean> = {
  describe: 'true or false',
  fromString(raw) {
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    throw new Error(`expected true or false, got ${JSON.stringify(raw)}`);
  },
  check(value) {
    if (typeof value !== 'boolean') throw new Error(`expected true or false, got ${JSON.stringify(value)}`);
    return value;
  },
};

export function choice<T extends string>(values: () => readonly T[]): Kind<T> {
  const check = (value: unknown): T => {
    const all = values();
    if (typeof value !== 'string' || !all.includes(value as T)) {
      throw new Error(`expected one of ${all.join(', ')}, got ${JSON.stringify(value)}`);
    }
    return value as T;
  };
  return {
    get describe() {
      return `one of ${values().join(', ')}`;
    },
    fromString: check,
    check,
  };
}

/**
 * A repeatable setting: each CLI occurrence adds one item; a config file gives an array, or a single item as
 * Gunicorn's `bind = "0.0.0.0:8000"`.
 */
export function list<T>(item: Kind<T>): Kind<T[]> {
  return {
    describe: `a list of ${item.describe.replace(/^an? /, '')}s`,
    fromString: (raw) => [item.fromString(raw)],
    check(value) {
      return Array.isArray(value) ? value.map((v) => item.check(v)) : [item.check(value)];
    },
  };
}

/** `KEY=VALUE` pairs, as Gunicorn's `-e`. */
export const keyValue: Kind<Record<string, string>> = {
  describe: 'KEY=VALUE pairs',
  fromString(raw) {
    const eq = raw.indexOf('=');
    if (eq <= 0) throw new Error(`expected KEY=VALUE, got ${JSON.stringify(raw)}`);
    return { [raw.slice(0, eq)]: raw.slice(eq + 1) };
  },
  check(value) {
    // Gunicorn's raw_env is a list of "KEY=VALUE" strings; a ported config keeps working.
    if (Array.isArray(value)) {
      return Object.assign(
        {},
        ...value.map((item) => {
          if (typeof item !== 'string') throw new Error(`expected "KEY=VALUE", got ${JSON.stringify(item)}`);
          return keyValue.fromString(item);
        }),
      );
    }
    if (typeof value !== 'object' || value === null) {
      throw new Error(`expected an object of strings, got ${JSON.stringify(value)}`);
    }
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string') throw new Error(`expected a string for ${k}, got ${JSON.stringify(v)}`);
    }
    return value as Record<string, string>;
  },
};
