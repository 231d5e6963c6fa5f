import { containsPan, luhnValid } from '../../domain/pan';

describe('containsPan', () => {
  it.each([
    ['4111111111111111'], // Visa test number, 16 digits
    ['5500000000000004'], // Mastercard
    ['340000000000009'], // Amex, 15 digits
    ['4222222222222'], // 13 digits
    ['6011000000000004'], // Discover
    ['card 4111111111111111 ref'],
    ['4111 1111 1111 1111'],
    ['4111-1111-1111-1111'],
    ['x4111111111111111y'],
    ['41111111111111111111'], // 20 digits: the first 16 are a Visa number glued to more digits
    ['4111  1111 1111 1111'], // any run of separators joins the groups
  ])('finds a PAN in %s', (text) => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(containsPan(text)).toBe(true);
  });

  it.each([
    ['4111111111111112'], // Luhn-invalid
    ['411111111111'], // 12 digits
    ['TX0000000001'],
    ['2026-11-22T10:00:00Z'],
    ['ACC-000123'],
    ['1234567890123.45'], // one plain decimal: an amount
    [''],
  ])('finds no PAN in %s', (text) => {
    expect(containsPan(text)).toBe(false);
  });

  it('checks every run, not just the first', () => {
    expect(containsPan('12345 and 4111111111111111')).toBe(true);
  });
});
