"""megatest.server"""
