"""megatest.executor"""
