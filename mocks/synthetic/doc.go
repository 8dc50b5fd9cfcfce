// Package synthetic owns seeded synthetic data: NHS numbers from the 999
// test range with a valid modulus-11 check digit, valid-looking ODS codes,
// and patients built from them. It never produces real data, and the same
// seed always produces the same sequence.
package synthetic
