"""megatest.launch"""
