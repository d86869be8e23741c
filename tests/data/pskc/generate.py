#!/usr/bin/env python3
"""Writes the pypskc-*.xml fixtures of twofold's PSKC reader with python-pskc (an independent
implementation: `pip install python-pskc`, tested with 1.4). IVs, MAC keys and salts are random,
so a new run writes other bytes holding the same values; the Rust tests
(src/app/import/pskc/tests.rs) check the values listed here.

Seeds (hex) and settings, shared by every file that holds the key:
  HOTP  serial PP-0001  seed 3132333435363738393031323334353637383930 ("12345678901234567890")
        counter 7, 6 digits, manufacturer "Acme"
  TOTP  serial PP-0002  seed 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
        8 digits, 60 s, suite HMAC-SHA256, policy 2024-01-01T00:00:00Z .. 2030-12-31T23:59:59Z
  TOTP  serial PP-0003  seed a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3 (20 bytes)
        6 digits, no TimeInterval (the reader's default is 30 s), Time 0
Keys and passwords:
  pypskc-psk-aes128-cbc.xml   pre-shared key 000102030405060708090a0b0c0d0e0f, MAC hmac-sha1,
                              secret and counter encrypted
  pypskc-psk-aes256-cbc.xml   pre-shared key 000102...1f (32 bytes), MAC hmac-sha256
  pypskc-psk-kw-aes128.xml    pre-shared key 000102030405060708090a0b0c0d0e0f, kw-aes128, no MAC
                              (python-pskc wraps the 20-byte seeds with RFC 5649 padding)
  pypskc-pbkdf2.xml           password "correct horse battery staple", 12000 iterations,
                              aes128-cbc, MAC hmac-sha1
  pypskc-pbkdf2-sha256.xml    password "qwerty", 20000 iterations, PRF hmac-sha256, aes256-cbc
"""

import datetime
import os
import sys

import pskc

HERE = os.path.dirname(os.path.abspath(__file__))
PSK16 = bytes(range(16))
PSK32 = bytes(range(32))


def container():
    p = pskc.PSKC()
    p.add_key(
        id='k1', serial='PP-0001', manufacturer='Acme',
        algorithm='urn:ietf:params:xml:ns:keyprov:pskc:hotp',
        secret=b'12345678901234567890', counter=7,
        response_length=6, response_encoding='DECIMAL')
    p.add_key(
        id='k2', serial='PP-0002',
        algorithm='urn:ietf:params:xml:ns:keyprov:pskc:totp',
        secret=bytes.fromhex('00112233445566778899aabbccddeeff' * 2),
        time_interval=60, algorithm_suite='HMAC-SHA256',
        response_length=8, response_encoding='DECIMAL',
        policy__start_date=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
        policy__expiry_date=datetime.datetime(2030, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc))
    p.add_key(
        id='k3', serial='PP-0003',
        algorithm='urn:ietf:params:xml:ns:keyprov:pskc:totp',
        secret=bytes.fromhex('a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3'),
        time_offset=0, response_length=6, response_encoding='DECIMAL')
    return p


def write(p, name):
    p.write(os.path.join(HERE, name))


def main():
    write(container(), 'pypskc-plain.xml')

    p = container()
    p.encryption.setup_preshared_key(
        key=PSK16, algorithm='aes128-cbc', key_name='psk-16', fields=['secret', 'counter'])
    write(p, 'pypskc-psk-aes128-cbc.xml')

    p = container()
    p.encryption.setup_preshared_key(key=PSK32, algorithm='aes256-cbc', key_name='psk-32')
    p.mac.setup(algorithm='hmac-sha256')
    write(p, 'pypskc-psk-aes256-cbc.xml')

    p = container()
    p.encryption.setup_preshared_key(key=PSK16, algorithm='kw-aes128', key_name='psk-16')
    write(p, 'pypskc-psk-kw-aes128.xml')

    p = container()
    p.encryption.setup_pbkdf2(
        'correct horse battery staple', algorithm='aes128-cbc', iterations=12000,
        key_name='password')
    write(p, 'pypskc-pbkdf2.xml')

    p = container()
    p.encryption.setup_pbkdf2(
        'qwerty', algorithm='aes256-cbc', iterations=20000,
        prf='hmac-sha256', key_name='password')
    write(p, 'pypskc-pbkdf2-sha256.xml')

    # read each file back with python-pskc itself
    for name, key, password in [
            ('pypskc-plain.xml', None, None),
            ('pypskc-psk-aes128-cbc.xml', PSK16, None),
            ('pypskc-psk-aes256-cbc.xml', PSK32, None),
            ('pypskc-psk-kw-aes128.xml', PSK16, None),
            ('pypskc-pbkdf2.xml', None, 'correct horse battery staple'),
            ('pypskc-pbkdf2-sha256.xml', None, 'qwerty')]:
        r = pskc.PSKC(os.path.join(HERE, name))
        if key:
            r.encryption.key = key
        if password:
            if 'sha256' in name:
                # python-pskc writes the PRF as element text but reads only PRF/@Algorithm
                r.encryption.derivation.pbkdf2_prf = 'hmac-sha256'
            r.encryption.derive_key(password)
        secrets = [k.secret.hex() for k in r.keys]
        assert all(k.check() for k in r.keys), name
        print(name, secrets, [k.counter for k in r.keys], file=sys.stderr)


if __name__ == '__main__':
    main()
