// Filling instrument text templates exactly as server/clinical/text.py does.
// Numbers: integral values print without a decimal point (15.0 -> "15"), others as the
// shortest round-trip decimal — String() here, repr() in Python, which agree for the
// ranges the instruments allow.

const PLACEHOLDER = /\{([a-z0-9_]+)\}/g;

export function formatNumber(value) {
  return String(value);
}

export function fill(template, values) {
  return template.replace(PLACEHOLDER, (whole, name) => {
    if (!Object.prototype.hasOwnProperty.call(values, name)) return whole;
    const value = values[name];
    return typeof value === 'number' ? formatNumber(value) : String(value);
  });
}
