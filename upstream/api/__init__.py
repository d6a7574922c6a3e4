"""The rules behind the API: who may do what inside a customer."""
