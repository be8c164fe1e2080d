"""megatest.store"""
