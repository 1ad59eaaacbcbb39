"""The rule version that brings house vouchers and land quotas."""

VOUCHER_VERSION = 4
