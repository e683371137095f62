"""The outbox: proactive messages (your turn, you're next) written in the transaction of
the change that caused them, and delivered afterwards, each exactly once where the
channel allows it.

    enqueue.py     writing a message (a writer's transaction)
    claims.py      claim, renew, hand back, retry, finish: the message's states
    delivery.py    one claimed message through its Transport, reconciling an attempt
                   whose outcome is unknown
    dispatcher.py  the loop that claims and delivers, woken by the app's Wakeup
    transport.py   what a channel implements (Transport, FindsSent) and its errors
    wakeup.py      the in-process "messages are due" signal an app owns
    reports.py     delivery reports from the channel after it accepted a message
"""
