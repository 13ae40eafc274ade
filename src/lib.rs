//! Integration tests and examples for vmstate-core live in tests/ and examples/.
