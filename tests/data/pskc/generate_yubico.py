#!/usr/bin/env python3
"""Writes pypskc-yubico.xml with python-pskc (an independent implementation: `pip install
python-pskc`, tested with 1.4): the YubiKey of tests/data/yubico/otps.json in Yubico OTP mode, as
draft-josefsson-keyprov-pskc-yubikey provisions one (algorithm http://www.yubico.com/#yubikey-aes,
the AES key as the Secret, UserId "CN=<public id>, UID=<private id>"), encrypted with the
pre-shared key 000102030405060708090a0b0c0d0e0f (AES-128-CBC, MAC HMAC-SHA1). The OTPs of
otps.json then verify against the imported token.
"""

import json
import os
import sys

import pskc

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, '..', 'yubico', 'otps.json')) as f:
    known = json.load(f)

container = pskc.PSKC()
key = container.add_key(
    id='12345680:1', serial='12345680', manufacturer='Yubico',
    algorithm='http://www.yubico.com/#yubikey-aes',
    secret=bytes.fromhex(known['aes_key_hex']),
    response_encoding='ALPHANUMERIC', response_length=44,
)
key.key_userid = 'CN=%s, UID=%s' % (known['public_id'], known['private_id_hex'])
container.encryption.setup_preshared_key(
    key=bytes.fromhex('000102030405060708090a0b0c0d0e0f'), algorithm='aes128-cbc')
container.mac.setup(algorithm='hmac-sha1')
out = os.path.join(here, 'pypskc-yubico.xml')
container.write(out)

# Read it back with python-pskc itself.
check = pskc.PSKC(out)
check.encryption.key = bytes.fromhex('000102030405060708090a0b0c0d0e0f')
assert check.keys[0].secret == bytes.fromhex(known['aes_key_hex']), 'round trip'
assert check.keys[0].key_userid.startswith('CN=' + known['public_id'])
sys.stdout.write('wrote %s\n' % out)
